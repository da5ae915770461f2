package deadletter

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// decideRecord judges a record the submitter could not get billed: one no workbook could hold is refused
// while the catalog still says so; one Connect refused is resubmitted (Connect judges it again). It is a
// duplicate when its origin record was replayed from another letter.
func (s *Service) decideRecord(ctx context.Context, l *Letter) (decision, error) {
	r := *l.Record
	d := decision{key: r.OriginID(), indexKey: ledger.ReplayedRecordKey(r.OriginID()),
		target: subjects.Adjustments.Subject(r.Product, r.Contract, r.PeriodStart, r.Partition)}
	if why := s.unwritable(&r); l.Reason == events.ReasonUnwritable && why != "" {
		d.what, d.detail = DecisionRefused, "still unwritable: "+why
		return d, nil
	}
	own, err := s.ownRecordCopy(ctx, l, d.target)
	if err != nil {
		return d, err
	}
	if d.ownSeq = own; own == 0 {
		if dup, err := s.replayedElsewhere(ctx, d.indexKey, l); err != nil || dup != "" {
			d.what, d.detail = DecisionDuplicate, dup
			return d, err
		}
	}
	base, err := s.baseNote(ctx, &r)
	if err != nil {
		return d, err
	}
	d.what = DecisionResubmit
	d.detail = strings.TrimSpace("in the next supplementary file of period " + events.Period{Start: r.PeriodStart}.Key() + base)
	d.copy, err = recordCopy(l.ID, d.target, r)
	return d, err
}

// unwritable says why the catalog still makes r unwritable ("" when it does not): its product or item is
// unknown, or its quantity has more decimals than the item's precision. The submitter judges it again.
func (s *Service) unwritable(r *events.PeriodRecord) string {
	p, ok := s.catalog.Product(r.Product)
	if !ok {
		return fmt.Sprintf("product %s is not in the catalog", r.Product)
	}
	it, ok := p.Item(r.Item)
	if !ok {
		return fmt.Sprintf("product %s has no item %s", r.Product, r.Item)
	}
	if sc := r.Quantity.Scale(); sc > int(it.Precision) {
		return fmt.Sprintf("quantity %s has %d decimals, item %s allows %s", r.Quantity, sc, it.MPN, it.Precision)
	}
	return ""
}

// ownRecordCopy finds the copy an interrupted replay of l published: a message on target above the log's
// floor that names l; 0 when there is none (or no replay of l began).
func (s *Service) ownRecordCopy(ctx context.Context, l *Letter, target string) (uint64, error) {
	if l.Replay == nil || l.Replay.State != ledger.ReplayStarted {
		return 0, nil
	}
	var seq uint64
	o := bus.ReadOptions{Filters: []string{target}, StartSeq: l.Replay.Floor + 1}
	err := s.streams.Read(ctx, bus.StreamAgg, o, func(m bus.Msg) error {
		if m.Header.Get(events.HeaderReplay) == l.ID && seq == 0 {
			seq = m.Seq
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("deadletter: look for the copy of %s on %s: %w", l.ID, target, err)
	}
	return seq, nil
}

// baseNote says, when the record's period has a base file (revision 0) that is parked or abandoned, that the
// resubmission waits for it (supplements follow the file they correct).
func (s *Service) baseNote(ctx context.Context, r *events.PeriodRecord) (string, error) {
	id := ledger.FileID{Product: r.Product, Contract: r.Contract, PeriodStart: r.PeriodStart, Part: 1}
	entries, err := s.ledger.Entries(ctx, ledger.RevisionPrefix(id))
	if err != nil {
		return "", fmt.Errorf("deadletter: base of %s: %w", id.Key(), err)
	}
	for _, e := range entries {
		if e.State.Parked() || e.State == ledger.StateAbandoned {
			return fmt.Sprintf("; it waits for the period's file %s, which is %s (resubmit it first)", e.Key, e.State), nil
		}
	}
	return "", nil
}

// recordCopy is the message that resubmits r: an adjustment of its period (a closed total becomes a delta of
// the same value, since Connect never took it) naming the letter, so that its record id is its own.
func recordCopy(id, subject string, r events.PeriodRecord) (bus.Msg, error) {
	r.Kind, r.Resubmits = events.RecordAdjustment, id
	if r.Mode == events.ModeTotal {
		r.Mode, r.Previous = events.ModeDelta, nil
	}
	data, err := json.Marshal(r)
	if err != nil {
		return bus.Msg{}, fmt.Errorf("deadletter: encode the copy of %s: %w", id, err)
	}
	h := bus.Header{}
	h.Set(events.HeaderKind, events.KindAdjustments)
	h.Set(events.HeaderReplay, id)
	h.Set(bus.HeaderMsgID, "replay-"+id)
	return bus.Msg{Subject: subject, Header: h, Data: append(data, '\n')}, nil
}
