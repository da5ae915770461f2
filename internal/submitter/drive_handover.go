package submitter

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
)

// What a file's driver does when the file is handed over (supplement_order.go): when a step moves an entry
// into submitted or an end from a state before them, whatever waited for it is told at once rather than at
// its next look: the planner plans the period's next supplement if adjustments wait beyond its index
// (supplementNudger), and the jobs of the period's later revisions this driver knows look at their gate
// again now. When a part of a period's closed-records file is parked, the period's supplements already in
// Connect are flagged (BaseParked): their deltas may be billed without their base, for an operator to see.

// supplementNudger models the planner as the driver sees it: told that a file of a period was handed over,
// it plans the period's next supplement if adjustments wait for it.
type supplementNudger interface{ nudge(p supplementPeriod) }

// stepped is called after a step's write moved e from state before. (A base part it parked flags the
// period's supplements when the job reads it ended, right after: ended.)
func (d *driver) stepped(before ledger.State, e *ledger.Entry) {
	handed := !handedOver(before) && handedOver(e.State)
	if handed && d.nudger != nil {
		d.nudger.nudge(periodOfEntry(e))
	}
	if handed || e.Revision == 0 && !before.Parked() && e.State.Parked() {
		d.wakeLaterRevisions(e)
	}
}

// ended is called when the driver finds e terminal (a job's read, or the ledger scan): a revision parked
// without a file gets its parked key, and a parked base part flags the period's supplements in Connect
// (again: idempotent, and the way a flag missed by a killed process is written after all).
func (d *driver) ended(ctx context.Context, e *ledger.Entry) {
	noteParked(ctx, d.ledger, d.log, e)
	if e.Revision == 0 && e.State.Parked() {
		d.flagSupplements(ctx, e)
	}
}

// wakeLaterRevisions makes the known jobs of e's period with a later revision due now, their schedule of
// quiet steps (a gate's backoff) forgotten.
func (d *driver) wakeLaterRevisions(e *ledger.Entry) {
	prefix := ledger.PeriodPrefix(e.Product, e.Contract, e.PeriodStart)
	d.mu.Lock()
	for key, j := range d.jobs {
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		if _, id, err := ledger.ParseKey(key); err != nil || id.Revision <= e.Revision {
			continue
		}
		j.woken = true
		if j.running {
			j.again = true
		} else {
			d.queue.schedule(j, time.Time{})
		}
	}
	d.mu.Unlock()
	d.wake()
}

// flagSupplements flags every supplement of base's period that has a Connect file and is neither parked
// nor empty, base being a parked part of revision 0. A failure is logged: the next time a driver finds the
// base ended (a job's read, the scan of a starting submitter), it flags what is left.
func (d *driver) flagSupplements(ctx context.Context, base *ledger.Entry) {
	keys, err := d.ledger.Keys(ctx, ledger.PeriodPrefix(base.Product, base.Contract, base.PeriodStart))
	if err != nil {
		d.log.WarnContext(ctx, "submitter: could not list the supplements of a parked base", "base", base.Key, "err", err)
		return
	}
	note := base.Key + " " + string(base.State)
	for _, key := range keys {
		if _, id, err := ledger.ParseKey(key); err != nil || id.Revision == 0 {
			continue
		}
		if err := d.flagSupplement(ctx, key, note); err != nil {
			d.log.WarnContext(ctx, "submitter: could not flag a supplement of a parked base", "key", key, "base", base.Key, "err", err)
		}
	}
}

// flagSupplement sets BaseParked to note on the supplement at key if it has a Connect file, is neither
// parked nor empty, and is not flagged yet (compare-and-set, read again after a race).
func (d *driver) flagSupplement(ctx context.Context, key, note string) error {
	for range maxIndexRaces {
		e, rev, err := d.ledger.Get(ctx, key)
		switch {
		case errors.Is(err, bus.ErrNotFound):
			return nil
		case err != nil:
			return err
		case e.FileID == "" || e.BaseParked != "" || e.State.Parked() || e.State == ledger.StateEmpty:
			return nil
		}
		e.BaseParked = note
		if _, err = d.ledger.Update(ctx, e, rev); err == nil {
			d.log.ErrorContext(ctx, "supplement in Connect while its base is parked: its deltas may be billed without their base "+
				"until an operator has the base reported again", "key", e.Key, "file_id", e.FileID, "state", e.State, "base", note)
			return nil
		} else if !errors.Is(err, bus.ErrRevisionMismatch) {
			return err
		}
	}
	return fmt.Errorf("submitter: %s changed %d times while being flagged", key, maxIndexRaces)
}
