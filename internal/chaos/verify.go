package chaos

import (
	"context"
	"time"

	"github.com/usagepipe/usagepipe/internal/reconcile"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// Verification pacing.
const (
	verifyEvery   = 2 * time.Second  // files are listed this often
	recordsEvery  = 10 * time.Second // records are re-read at least this often while nothing moves
	confirmAfter  = 5 * time.Second  // a match is confirmed by a second read this much later
	progressEvery = 15 * time.Second
)

// verdict is what Connect reports at the end of a run, compared with the truth.
type verdict struct {
	settled  bool // no file moving and every key matching, confirmed, before the deadline
	compared bool // files and records were read and compared with the truth (false: nothing is known)
	files    []usageapi.File
	have     reconcile.Totals
	diffs    []reconcile.Difference
	unmapped []string
	dups     dupCheck // of files, read once at the end (conclude)
	// correctSince is when the polls first found every sum right, without a poll finding one wrong since
	// (zero: the last comparison differs).
	correctSince time.Time
}

// verifier waits for Connect to settle on the truth.
type verifier struct {
	client *usageapi.Client
	cat    *events.Catalog
	truth  reconcile.Totals
	ledger func(ctx context.Context) (*reconcile.Ledger, error) // the submitter's ledger
	logf   func(format string, args ...any)
}

// ledgerMoving counts the ledger entries the submitters are still driving (-1 when the ledger cannot be read).
func (v *verifier) ledgerMoving(ctx context.Context) int {
	l, err := v.ledger(ctx)
	if err != nil {
		v.logf("verify: %v", err)
		return -1
	}
	return l.Moving()
}

// wait polls Connect until it has settled on the truth, with no file moving in Connect nor in the ledger
// (confirmed confirmAfter later), or until the deadline passes; it returns the last comparison.
func (v *verifier) wait(ctx context.Context, deadline time.Time) verdict {
	p := &pollState{lastFiles: -1}
	for ctx.Err() == nil && time.Now().Before(deadline) {
		if v.poll(ctx, p) {
			p.last.settled = true
			return v.conclude(p.last)
		}
		sleepUntil(ctx, time.Now().Add(p.pause))
	}
	return v.conclude(v.final(p.last))
}

// conclude checks the verdict's files for duplicates (checkDuplicates), reading every record they hold
// without the run's context, which may have ended. Files whose records cannot be read count as unclassified.
func (v *verifier) conclude(vd verdict) verdict {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var contents *fileContents
	err := v.reading(ctx, "the files' records", func() error {
		recs, unmapped, err := reconcile.ReadFileRecords(ctx, v.client, reconcile.Keyer{Catalog: v.cat}, vd.files)
		contents = &fileContents{records: recs, unmapped: unmapped}
		return err
	})
	if err != nil {
		contents = nil
	}
	vd.dups = checkDuplicates(vd.files, contents, v.truth)
	return vd
}

// Reads that conclude a run are repeated when they fail: the emulator's faults meet the harness's own reads
// too, and some of them (a redirect) the client does not retry.
const (
	readAttempts = 5
	readPause    = time.Second
)

// reading runs read until it succeeds, readAttempts times at most, readPause apart; it logs each failure
// and returns the last error.
func (v *verifier) reading(ctx context.Context, what string, read func() error) error {
	var err error
	for range readAttempts {
		if err = read(); err == nil {
			return nil
		}
		v.logf("verify: reading %s: %v", what, err)
		if !sleepUntil(ctx, time.Now().Add(readPause)) {
			break
		}
	}
	return err
}

// pollState is what wait remembers between two polls.
type pollState struct {
	last         verdict
	lastFiles    int       // files at the last records read
	lastRead     time.Time // of the records
	lastProgress time.Time
	matchedAt    time.Time // when Connect first matched the truth (zero: it does not)
	correctSince time.Time // when a poll first found every sum right, none wrong since (zero: the last differs)
	pause        time.Duration
}

// due reports whether the records are worth reading again: the files changed, a while passed, or a match
// is being confirmed.
func (p *pollState) due(files int) bool {
	return files != p.lastFiles || time.Since(p.lastRead) >= recordsEvery || !p.matchedAt.IsZero()
}

// poll makes one observation and reports whether Connect has settled on the truth, confirmed.
func (v *verifier) poll(ctx context.Context, p *pollState) bool {
	p.pause = verifyEvery
	at := time.Now()
	files, err := reconcile.ReadFiles(ctx, v.client, v.cat)
	if err != nil {
		v.logf("verify: %v", err)
		return false
	}
	if moving(files) > 0 || !p.due(len(files)) {
		p.matchedAt = time.Time{}
		v.progress(p, files)
		return false
	}
	p.lastRead, p.lastFiles = time.Now(), len(files)
	cmp, err := v.compare(ctx, files)
	if err != nil {
		// The previous comparison stays the one reported: a failed read proves nothing either way.
		v.logf("verify: %v", err)
		return false
	}
	p.last = cmp
	p.noteSums(at)
	if len(p.last.diffs) > 0 || len(p.last.unmapped) > 0 || v.ledgerMoving(ctx) != 0 {
		p.matchedAt = time.Time{}
		v.progress(p, files)
		return false
	}
	if !p.matchedAt.IsZero() && time.Since(p.matchedAt) >= confirmAfter {
		return true
	}
	if p.matchedAt.IsZero() {
		p.matchedAt = time.Now()
	}
	p.pause = confirmAfter
	return false
}

// noteSums records when the comparison of a poll started at at found every sum right for the first time
// since one was wrong, on the verdict too.
func (p *pollState) noteSums(at time.Time) {
	switch {
	case len(p.last.diffs) > 0 || len(p.last.unmapped) > 0:
		p.correctSince = time.Time{}
	case p.correctSince.IsZero():
		p.correctSince = at
	}
	p.last.correctSince = p.correctSince
}

// progress logs where Connect stands, every progressEvery.
func (v *verifier) progress(p *pollState, files []usageapi.File) {
	if time.Since(p.lastProgress) < progressEvery {
		return
	}
	p.lastProgress = time.Now()
	v.logf("waiting for Connect: %d files, %d moving, %d keys differ at the last records read",
		len(files), moving(files), len(p.last.diffs))
}

// final reads Connect once more (without the run's context, which may have ended) for the report. When
// that read fails it returns last, never settled: a run that did not settle is not ok.
func (v *verifier) final(last verdict) verdict {
	last.settled = false
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out verdict
	err := v.reading(ctx, "Connect for the report", func() error {
		files, err := reconcile.ReadFiles(ctx, v.client, v.cat)
		if err == nil {
			out, err = v.compare(ctx, files)
		}
		return err
	})
	if err != nil {
		return last
	}
	return out
}

// compare reads the records of the billed files and compares them with the truth.
func (v *verifier) compare(ctx context.Context, files []usageapi.File) (verdict, error) {
	have, unmapped, err := reconcile.ReadRecords(ctx, v.client, reconcile.Keyer{Catalog: v.cat}, files)
	if err != nil {
		return verdict{}, err
	}
	return verdict{compared: true, files: files, have: have, diffs: reconcile.Compare(v.truth, have),
		unmapped: unmapped}, nil
}

// moving counts the files Connect or the submitter will still change: neither billed, rejected nor deleted.
func moving(files []usageapi.File) int {
	n := 0
	for _, f := range files {
		switch f.Status {
		case usageapi.FileStatusAccepted, usageapi.FileStatusClosed, usageapi.FileStatusRejected, usageapi.FileStatusDeleted:
		default:
			n++
		}
	}
	return n
}
