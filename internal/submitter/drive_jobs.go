package submitter

import (
	"context"
	"sync"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
)

// driver runs ledger entries: each known non-terminal entry is a job, queued by when it is next due, and at
// most Concurrency jobs run at once, each by one worker goroutine. A job never runs twice at the same time in
// a process. Entries planned here are added at once; a periodic scan of the ledger adds those planned by
// other instances or left by an earlier run.
type driver struct {
	s *Submitter

	mu       sync.Mutex
	jobs     map[string]*job // non-terminal entries known
	terminal map[string]bool // entries known to be terminal (scans skip them)
	queue    dueQueue
	kick     chan struct{}
}

func newDriver(s *Submitter) *driver {
	return &driver{s: s, jobs: map[string]*job{}, terminal: map[string]bool{}, kick: make(chan struct{}, 1)}
}

// add makes the entry at key due at t (zero: now), unless it is terminal or due earlier already.
func (d *driver) add(key string, t time.Time) {
	d.mu.Lock()
	j := d.jobs[key]
	if j == nil && !d.terminal[key] {
		j = &job{key: key, index: -1}
		d.jobs[key] = j
	}
	switch {
	case j == nil:
	case j.running:
		j.again = true
	default:
		d.queue.schedule(j, t)
	}
	d.mu.Unlock()
	d.wake()
}

// revive adds the entry at key, due at at, unless a job has it already, even when it was known as terminal:
// a key an operator deleted and planning wrote again is a new entry.
func (d *driver) revive(key string, at time.Time) {
	d.mu.Lock()
	_, running := d.jobs[key]
	delete(d.terminal, key)
	d.mu.Unlock()
	if !running {
		d.add(key, at)
	}
}

func (d *driver) wake() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// run dispatches due jobs to at most Concurrency workers and scans the ledger, until ctx ends; then it
// waits for the running workers.
func (d *driver) run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { d.scanLoop(ctx) })
	slots := make(chan struct{}, d.s.opts.Concurrency)
	for ctx.Err() == nil {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		j, wait := d.take()
		if j == nil {
			<-slots
			d.sleep(ctx, wait)
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			d.work(ctx, j)
		})
	}
	wg.Wait()
	return nil
}

// take returns a due job, marked running, or how long to wait for one.
func (d *driver) take() (*job, time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	j, wait := d.queue.popDue(d.s.now())
	if j != nil {
		j.running = true
	}
	return j, wait
}

// sleep waits for wait (forever when negative), a new job, or the end of ctx.
func (d *driver) sleep(ctx context.Context, wait time.Duration) {
	var timer <-chan time.Time
	if wait >= 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-d.kick:
	case <-timer:
	case <-ctx.Done():
	}
}

// work drives one entry until it must wait, then requeues or forgets it.
func (d *driver) work(ctx context.Context, j *job) {
	next, done := d.s.drive(ctx, j.key, &j.memo)
	d.mu.Lock()
	defer d.mu.Unlock()
	j.running = false
	switch {
	case j.again:
		j.again = false
		d.queue.schedule(j, time.Time{})
	case done:
		delete(d.jobs, j.key)
		d.terminal[j.key] = true
	case ctx.Err() == nil:
		d.queue.schedule(j, next)
	}
	d.wake()
}

// scanLoop scans the ledger at start and every ScanInterval.
func (d *driver) scanLoop(ctx context.Context) {
	t := time.NewTicker(d.s.opts.ScanInterval)
	defer t.Stop()
	for {
		d.scan(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// scan adds every ledger entry this process does not know yet (noting the parked ones), then looks at the
// parked revisions (replan.go).
func (d *driver) scan(ctx context.Context) {
	keys, err := d.s.ledger.Keys(ctx, ledger.FilesPrefix)
	if err != nil {
		if ctx.Err() == nil {
			d.s.log.WarnContext(ctx, "submitter: ledger scan failed", "err", err)
		}
		return
	}
	for _, key := range keys {
		if d.known(key) {
			continue
		}
		e, _, err := d.s.ledger.Get(ctx, key)
		if err != nil {
			continue // deleted meanwhile, or unreachable: the next scan tries again
		}
		d.s.ins.track(key, e.State)
		if e.State.Terminal() {
			d.s.noteParked(ctx, e)
			d.markTerminal(key)
		} else {
			d.add(key, e.NextAt)
		}
	}
	d.s.checkParked(ctx)
}

func (d *driver) known(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.jobs[key] != nil || d.terminal[key]
}

func (d *driver) markTerminal(key string) {
	d.mu.Lock()
	d.terminal[key] = true
	d.mu.Unlock()
}
