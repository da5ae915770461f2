package usage

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// storedRecord is one record of a key and its USAGE_AGG sequence.
type storedRecord struct {
	rec events.PeriodRecord
	seq uint64
}

// addReported adds to each closed line what its records reported: the revisions in accepted (or closed)
// files, and the ones still on their way. A revision's file is the ledger's: revision 0 for the closed record,
// the supplement whose range holds the adjustment's message otherwise; a revision split into parts counts as
// accepted once every part is.
func (s *Service) addReported(ctx context.Context, sub string, p int, lines []Line) error {
	entries := map[string][]*ledger.Entry{}
	for i := range lines {
		l := &lines[i]
		prefix := ledger.PeriodPrefix(l.Product, l.Contract, l.PeriodStart)
		if _, ok := entries[prefix]; !ok {
			es, err := s.ledger.Entries(ctx, prefix)
			if err != nil {
				return fmt.Errorf("usage: ledger: %w", err)
			}
			entries[prefix] = es
		}
		recs, err := s.readKey(ctx, sub, p, l)
		if err != nil {
			return err
		}
		l.Reported = reportedOf(recs, entries[prefix])
	}
	return nil
}

func reportedOf(recs []storedRecord, entries []*ledger.Entry) *Reported {
	r := &Reported{Records: []RecordRef{}}
	for _, sr := range recs {
		if ledger.ChangesNothing(&sr.rec) {
			continue
		}
		ref := RecordRef{Revision: sr.rec.Revision, RecordID: sr.rec.RecordID(), Reported: ledger.Reported(&sr.rec),
			Accepted: accepted(entries, &sr.rec, sr.seq)}
		if ref.Accepted {
			r.Value = r.Value.Add(ref.Reported)
		} else {
			r.Pending = r.Pending.Add(ref.Reported)
		}
		r.Records = append(r.Records, ref)
	}
	return r
}

// accepted reports whether every part of the revision holding rec (at seq) is accepted or closed.
func accepted(entries []*ledger.Entry, rec *events.PeriodRecord, seq uint64) bool {
	n := 0
	for _, e := range entries {
		holds := rec.Kind == events.RecordClosed && e.Revision == 0 ||
			rec.Kind == events.RecordAdjustment && e.Revision > 0 && e.FromSeq < seq && seq <= e.ToSeq
		if !holds {
			continue
		}
		if e.State != ledger.StateAccepted && e.State != ledger.StateClosed {
			return false
		}
		n++
	}
	return n > 0
}

// readKey reads the records and adjustments of line l's key in partition p: its period's subjects, from the
// period's close on, lines of other subscriptions skipped before decoding.
func (s *Service) readKey(ctx context.Context, sub string, p int, l *Line) ([]storedRecord, error) {
	var out []storedRecord
	needle, _ := json.Marshal(sub)
	needle = append([]byte(`"subscription":`), needle...)
	for _, o := range []subjects.Output{subjects.Records, subjects.Adjustments} {
		o := bus.ReadOptions{Filters: []string{o.Subject(l.Product, l.Contract, l.PeriodStart, p)}, StartTime: l.ClosesAt.Add(-time.Second)}
		err := s.bus.Read(ctx, bus.StreamAgg, o, func(m bus.Msg) error {
			for line := range bytes.Lines(m.Data) {
				if !bytes.Contains(line, needle) {
					continue
				}
				var r events.PeriodRecord
				if err := json.Unmarshal(line, &r); err != nil {
					return fmt.Errorf("%s seq %d: %w", m.Subject, m.Seq, err)
				}
				if r.Subscription == sub && r.Item == l.Item && r.Tier == l.Tier {
					out = append(out, storedRecord{rec: r, seq: m.Seq})
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("usage: read records: %w", err)
		}
	}
	slices.SortFunc(out, func(a, b storedRecord) int { return cmp.Compare(a.rec.Revision, b.rec.Revision) })
	return slices.CompactFunc(out, func(a, b storedRecord) bool { return a.rec.Revision == b.rec.Revision }), nil
}
