package pipeline

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/usagepipe/usagepipe/internal/reconcile"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// followEvery is how often the Connect follower lists the usage files.
const followEvery = 500 * time.Millisecond

// follower watches Connect (the emulator) for accepted usage files and feeds each one's records, once, to
// the truth with the file's acceptance time. It lists the files all along, but reads records only once
// startReading is called: the emulator's record list scans every record it holds under its lock (hundreds
// of thousands by the end of a soak), so reading while the bench measures would slow the very submitter it
// measures. Since a file's acceptance time comes from the file, reading later changes no latency. One
// goroutine runs it; its counts are read under mu.
type follower struct {
	reading       atomic.Bool
	client        *usageapi.Client
	cat           *events.Catalog
	subscriptions int
	truth         *truth

	mu       sync.Mutex
	read     map[string]bool      // accepted files whose records were read
	seen     map[string]time.Time // accepted files not read yet, when first seen
	statuses map[usageapi.FileStatus]int
	unread   int // accepted files of the last listing whose records are not read yet
	records  int
	stages   []fileStages // of the base files read
	problems []string
}

func newFollower(client *usageapi.Client, cat *events.Catalog, subscriptions int, t *truth) *follower {
	return &follower{client: client, cat: cat, subscriptions: subscriptions, truth: t, read: map[string]bool{},
		seen: map[string]time.Time{}, statuses: map[usageapi.FileStatus]int{}}
}

// run polls Connect until ctx ends.
func (f *follower) run(ctx context.Context) {
	t := time.NewTicker(followEvery)
	defer t.Stop()
	for {
		if err := f.poll(ctx); err != nil && ctx.Err() == nil {
			f.problem(err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// poll lists the files and reads the records of the newly accepted ones.
func (f *follower) poll(ctx context.Context) error {
	files, err := reconcile.ReadFiles(ctx, f.client, f.cat)
	if err != nil {
		return err
	}
	statuses := map[usageapi.FileStatus]int{}
	for _, file := range files {
		statuses[file.Status]++
	}
	f.mu.Lock()
	f.statuses = statuses
	f.mu.Unlock()
	defer f.countUnread(files)
	if !f.reading.Load() {
		return nil
	}
	for _, file := range f.toRead(files, moving(statuses)) {
		if err := f.readFile(ctx, file); err != nil {
			return err
		}
	}
	return nil
}

// countUnread counts the accepted files among files whose records are not read yet.
func (f *follower) countUnread(files []usageapi.File) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unread = 0
	for _, file := range files {
		if reconcile.Billed(file.Status) && !f.read[file.ID] {
			f.unread++
		}
	}
}

// toRead returns the accepted files not read yet, in the order Connect accepted them: the truth takes a
// key's files in that order, a supplement after its base. While files are in flight (busy), only those
// that have waited readAfter are read: their acceptance time is in the file, not in the read, and files
// always in flight must not starve the reads.
func (f *follower) toRead(files []usageapi.File, busy bool) []usageapi.File {
	var out []usageapi.File
	for _, file := range files {
		if reconcile.Billed(file.Status) && !f.isRead(file.ID) && (!busy || f.waited(file.ID) >= readAfter) {
			out = append(out, file)
		}
	}
	slices.SortStableFunc(out, func(a, b usageapi.File) int { return acceptedAt(a).Compare(acceptedAt(b)) })
	return out
}

// acceptedAt is when Connect accepted a file (its accepted event; a file without one sorts last).
func acceptedAt(f usageapi.File) time.Time {
	if f.Events != nil && f.Events.Accepted != nil {
		return f.Events.Accepted.At
	}
	return time.Unix(1<<40, 0)
}

// moving reports whether some file is still on its way to a decision (draft, uploading, processing, ready,
// pending): reading records meanwhile would compete with the submitter for the emulator, whose record list
// scans every record under its lock.
func moving(statuses map[usageapi.FileStatus]int) bool {
	for st, n := range statuses {
		switch st {
		case usageapi.FileStatusAccepted, usageapi.FileStatusClosed, usageapi.FileStatusRejected,
			usageapi.FileStatusDeleted, usageapi.FileStatusInvalid:
		default:
			if n > 0 {
				return true
			}
		}
	}
	return false
}

// startReading lets the follower read the records of accepted files from its next poll on.
func (f *follower) startReading() { f.reading.Store(true) }

// readAfter is how long an accepted file's records wait for the files in flight to be done, at most.
const readAfter = 10 * time.Second

// waited is how long ago the follower first saw the file unread.
func (f *follower) waited(id string) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	first, ok := f.seen[id]
	if !ok {
		first = time.Now()
		f.seen[id] = first
	}
	return time.Since(first)
}

func (f *follower) isRead(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.read[id]
}

// readFile feeds an accepted file's records to the truth.
func (f *follower) readFile(ctx context.Context, file usageapi.File) error {
	at := time.Now()
	if file.Events != nil && file.Events.Accepted != nil {
		at = file.Events.Accepted.At
	}
	// Files are read in acceptance order, so a key's files reach the truth in that order.
	totals, unmapped, err := reconcile.ReadRecords(ctx, f.client, reconcile.Keyer{Catalog: f.cat},
		[]usageapi.File{file}, usageapi.Eq("usage_file", file.ID))
	if err != nil {
		return fmt.Errorf("records of %s: %w", file.ID, err)
	}
	for _, u := range unmapped {
		f.problem(u)
	}
	for key, v := range totals {
		tk, err := f.truth.keyOfRecord(key, f.subscriptions)
		if err != nil {
			f.problem(fmt.Sprintf("file %s: %v", file.ID, err))
			continue
		}
		cents, ok := v.Quantity.FixedPoint(2)
		if !ok {
			f.problem(fmt.Sprintf("file %s: %s quantity %s has more than two decimals", file.ID, key, v.Quantity))
			continue
		}
		f.truth.contained(tk, cents, at)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.read[file.ID] = true
	f.unread = max(f.unread-1, 0) // until the poll counts again
	delete(f.seen, file.ID)
	f.records += len(totals)
	if st, ok := stagesOf(file, f.truth); ok {
		f.stages = append(f.stages, st)
	}
	return nil
}

// maxProblems bounds the problems kept for the report.
const maxProblems = 20

func (f *follower) problem(p string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.problems) < maxProblems {
		f.problems = append(f.problems, p)
	}
}

// connectState is what the follower saw.
type connectState struct {
	statuses map[usageapi.FileStatus]int
	accepted int // files read
	unread   int // accepted files not read yet
	records  int
	problems []string
}

// baseStages returns the stages of the base files read so far.
func (f *follower) baseStages() []fileStages {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.stages)
}

func (f *follower) state() connectState {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := make(map[usageapi.FileStatus]int, len(f.statuses))
	for k, v := range f.statuses {
		st[k] = v
	}
	return connectState{statuses: st, accepted: len(f.read), unread: f.unread, records: f.records,
		problems: append([]string(nil), f.problems...)}
}
