package submitter

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// noAlive is the keep-alive of planning that no message waits for (a replan from the scan).
func noAlive() {}

// checkParked looks at every parked key (ledger.Parked), at each ledger scan: a revision that lacks a part (an
// operator deleted its failed entries) is planned again; one whose parts are all back and have ended
// without a new park loses its key; parts not ended yet are handed to this process's driver too, so that
// any submitter drives a replanned file.
func (pl *planner) checkParked(ctx context.Context) {
	keys, err := pl.ledger.Keys(ctx, ledger.ParkedPrefix)
	if err != nil {
		pl.log.WarnContext(ctx, "submitter: listing parked revisions failed", "err", err)
		return
	}
	for _, key := range keys {
		if err := pl.checkParkedKey(ctx, key); err != nil && ctx.Err() == nil {
			pl.log.WarnContext(ctx, "submitter: parked revision not planned again yet", "key", key, "err", err)
		}
	}
}

// checkParkedKey handles one parked key.
func (pl *planner) checkParkedKey(ctx context.Context, key string) error {
	p, rev, err := pl.ledger.Parked(ctx, key)
	if err != nil {
		return err
	}
	parts, err := pl.revisionParts(ctx, p.First())
	if err != nil {
		return err
	}
	if incomplete(parts) {
		return pl.replan(ctx, p, parts)
	}
	ended := true
	for _, e := range parts {
		switch {
		case e.ParkedWithoutFile():
			return pl.releaseFromBase(ctx, p, parts) // still parked, unless its base is billed now
		case !e.State.Terminal():
			ended = false
			pl.drive.revive(e.Key, e.NextAt)
		}
	}
	if !ended {
		return nil
	}
	if err := pl.ledger.DeleteParked(ctx, key, rev); err != nil && !errors.Is(err, bus.ErrRevisionMismatch) {
		return fmt.Errorf("submitter: resolved %s: %w", key, err)
	}
	return nil
}

// releaseFromBase deletes the parts of a supplement parked because its base (revision 0) was rejected,
// failed or abandoned, once every part of the base is accepted, closed or empty (an operator resubmitted it):
// the next scan plans the supplement again. Other parks wait for an operator (usagepipe parked).
func (pl *planner) releaseFromBase(ctx context.Context, p ledger.Parked, parts []*ledger.Entry) error {
	if p.Revision == 0 || !strings.Contains(p.Reason, "base_") {
		return nil
	}
	base := p.First()
	base.Revision = 0
	entries, err := pl.ledger.Entries(ctx, ledger.RevisionPrefix(base))
	if err != nil || len(entries) == 0 || len(entries) < entries[0].Parts {
		return err
	}
	for _, e := range entries {
		if !e.State.Billed() {
			return nil
		}
	}
	for _, e := range parts {
		if err := pl.deleteParked(ctx, e); err != nil {
			return err
		}
	}
	pl.log.InfoContext(ctx, "submitter: a supplement parked for its base is planned again: the base is billed now",
		"revision", ledger.ParkedKey(p.First()))
	return nil
}

// deleteParked deletes e if it is still parked without a file (at the revision read).
func (pl *planner) deleteParked(ctx context.Context, e *ledger.Entry) error {
	cur, rev, err := pl.ledger.Get(ctx, e.Key)
	switch {
	case errors.Is(err, bus.ErrNotFound):
		return nil
	case err != nil:
		return err
	case !cur.ParkedWithoutFile():
		return nil
	}
	if err := pl.ledger.Delete(ctx, e.Key, rev); err != nil && !errors.Is(err, bus.ErrRevisionMismatch) {
		return err
	}
	return nil
}

// revisionParts reads every ledger entry of first's revision, by part (nil: missing); nil when it has none.
func (pl *planner) revisionParts(ctx context.Context, first ledger.FileID) ([]*ledger.Entry, error) {
	entries, err := pl.ledger.Entries(ctx, ledger.RevisionPrefix(first))
	if err != nil {
		return nil, err
	}
	var parts []*ledger.Entry
	for _, e := range entries {
		if len(parts) < e.Parts {
			parts = append(parts, make([]*ledger.Entry, e.Parts-len(parts))...)
		}
		if e.Part >= 1 && e.Part <= len(parts) {
			parts[e.Part-1] = e
		}
	}
	return parts, nil
}

// incomplete reports whether a revision lacks a part.
func incomplete(parts []*ledger.Entry) bool {
	for _, e := range parts {
		if e == nil {
			return true
		}
	}
	return len(parts) == 0
}

// withPlan returns a part of a revision that holds its plan, or nil. Entries written by a failed plan hold
// none (no digest of records).
func withPlan(parts []*ledger.Entry) *ledger.Entry {
	for _, e := range parts {
		if e != nil && e.Digest != "" {
			return e
		}
	}
	return nil
}

// replan plans a parked revision again: a part still in the ledger with a plan is finished as planned;
// without one, closed records are planned afresh from the period's marks, a supplement from its fixed range
// of adjustment messages. A failure parks it again (settlePlan), with the reason of now.
func (pl *planner) replan(ctx context.Context, p ledger.Parked, parts []*ledger.Entry) error {
	first := p.First()
	pl.log.InfoContext(ctx, "submitter: planning a parked revision again", "revision", ledger.ParkedKey(first))
	planned := withPlan(parts)
	if planned == nil && first.Revision == 0 {
		return pl.replanClosed(ctx, p)
	}
	ctx, span := pl.startPlan(ctx, first, nil)
	defer span.End()
	var err error
	if planned != nil {
		err = pl.finishPlan(ctx, planned, noAlive)
	} else {
		err = pl.replanSupplement(ctx, first, p)
	}
	_, err = pl.settlePlan(ctx, failedRevision{id: first, end: p.PeriodEnd, from: p.FromSeq, to: p.ToSeq, since: p.Since}, err)
	return endPlan(span, err)
}

// replanClosed plans the closed records of p's period as the newest mark of the period says.
func (pl *planner) replanClosed(ctx context.Context, p ledger.Parked) error {
	filter := subjects.Marks.Period(p.Product, p.Contract, p.PeriodStart)
	msg, err := pl.agg.LastMsg(ctx, bus.StreamAgg, filter)
	if err != nil {
		return fmt.Errorf("submitter: last mark on %s: %w", filter, err)
	}
	marks, err := decodeLines[events.PartitionMark](msg.Data)
	if err != nil {
		return fmt.Errorf("submitter: mark %s: %w", filter, err)
	}
	for _, m := range marks {
		if m.Product == p.Product && m.Contract == p.Contract && m.PeriodStart.Equal(p.PeriodStart) {
			return pl.planClosedRevision(ctx, m, msg.Header, noAlive)
		}
	}
	return fmt.Errorf("submitter: the last mark on %s names another period", filter)
}

// replanSupplement plans supplement first.Revision over the adjustment messages its park recorded.
func (pl *planner) replanSupplement(ctx context.Context, first ledger.FileID, p ledger.Parked) error {
	supp, err := pl.supplementPlan(ctx, first, p.PeriodEnd, p.FromSeq, p.ToSeq, noAlive)
	if err == nil {
		_, err = pl.planFiles(ctx, supp, noAlive)
	}
	return err
}
