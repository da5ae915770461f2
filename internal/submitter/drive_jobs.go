package submitter

import (
	"context"
	"sync"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
)

// The driver's jobs: each known non-terminal entry is a job, queued by when it is next due (drive_queue.go).
// Entries the planner writes are added at once (revive); the ledger scan adds those planned by other
// submitters or left by an earlier run (scan).

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

// run dispatches due jobs to at most Concurrency workers until ctx ends; then it waits for the running
// workers.
func (d *driver) run(ctx context.Context) error {
	var wg sync.WaitGroup
	slots := make(chan struct{}, d.concurrency)
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
	j, wait := d.queue.popDue(d.now())
	if j != nil {
		j.running = true
		if j.woken {
			j.memo, j.woken = memo{}, false
		}
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
	next, done := d.drive(ctx, j.key, &j.memo)
	d.mu.Lock()
	defer d.mu.Unlock()
	j.running = false
	switch {
	case j.again:
		j.again = false
		d.queue.schedule(j, time.Time{})
	case done:
		delete(d.jobs, j.key)
		d.terminal[j.key] = !d.parked[j.key]
	case ctx.Err() == nil:
		d.queue.schedule(j, next)
	}
	d.wake()
}

// scan adds every ledger entry this process does not know yet, noting the parked ones (ledger.Parked). A
// parked entry is read again at every scan: an operator may report it again (usagepipe parked resubmit).
func (d *driver) scan(ctx context.Context) error {
	keys, err := d.ledger.Keys(ctx, ledger.FilesPrefix)
	if err != nil {
		return err
	}
	for _, key := range keys {
		if d.known(key) {
			continue
		}
		e, _, err := d.ledger.Get(ctx, key)
		if err != nil {
			continue // deleted meanwhile, or unreachable: the next scan tries again
		}
		d.ins.track(key, e.State)
		switch {
		case e.State.Parked():
			if d.noteParkedOnce(key) {
				d.ended(ctx, e)
			}
		case e.State.Terminal():
			d.ended(ctx, e)
			d.markTerminal(key)
		default:
			d.setParked(key, false)
			d.add(key, e.NextAt)
		}
	}
	return nil
}

// noteParkedOnce records key as parked and reports whether it was not known so.
func (d *driver) noteParkedOnce(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	was := d.parked[key]
	d.parked[key] = true
	return !was
}

// setParked records whether the entry at key is parked.
func (d *driver) setParked(key string, parked bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if parked {
		d.parked[key] = true
	} else {
		delete(d.parked, key)
	}
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
