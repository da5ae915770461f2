package lineage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// recordKey is the identity of an aggregate: what a record is of, but its revision.
type recordKey struct {
	product, contract, subscription, item string
	tier                                  int
	start                                 time.Time
}

func (k recordKey) of(r *events.PeriodRecord) bool {
	return r.Product == k.product && r.Contract == k.contract && r.Subscription == k.subscription &&
		r.Item == k.item && r.Tier == k.tier && r.PeriodStart.Equal(k.start)
}

// decodeRecords decodes the JSON lines of a records or adjustments message.
func decodeRecords(data []byte) ([]events.PeriodRecord, error) {
	var out []events.PeriodRecord
	for l := range bytes.Lines(data) {
		if l = bytes.TrimSpace(l); len(l) == 0 {
			continue
		}
		var r events.PeriodRecord
		if err := json.Unmarshal(l, &r); err != nil {
			return nil, fmt.Errorf("decode record: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// newRecord describes a stored record.
func newRecord(r events.PeriodRecord, m bus.Msg) *Record {
	return &Record{RecordID: r.RecordID(), Subject: m.Subject, Seq: m.Seq, At: m.Time, Reported: ledger.Reported(&r),
		LeftOut: ledger.ChangesNothing(&r), Record: r}
}

// findInSubject reads subject of USAGE_AGG from start on and returns the first record match accepts; done,
// given each message's records, says when nothing further can match. A subject without any message is
// reported without reading.
func (s *Service) findInSubject(ctx context.Context, subject string, start time.Time, match func(*events.PeriodRecord) bool,
	done func([]events.PeriodRecord) bool) (*Record, Span, error) {
	sp := Span{Stream: bus.StreamAgg, Filter: subject, FromTime: start, Complete: true}
	if _, err := s.bus.LastMsg(ctx, bus.StreamAgg, subject); errors.Is(err, bus.ErrNotFound) {
		sp.Note = "no message on this subject"
		return nil, sp, nil
	} else if err != nil {
		return nil, sp, fmt.Errorf("lineage: %w", err)
	}
	var found *Record
	stop := false
	sp, err := s.readSpan(ctx, bus.StreamAgg, subject, 0, start, func(bus.Msg) bool { return stop || found != nil },
		func(m bus.Msg) error {
			recs, err := decodeRecords(m.Data)
			if err != nil {
				return fmt.Errorf("%s seq %d: %w", m.Subject, m.Seq, err)
			}
			for i := range recs {
				if match(&recs[i]) {
					found = newRecord(recs[i], m)
					return nil
				}
			}
			stop = done != nil && done(recs)
			return nil
		})
	return found, sp, err
}

// closedRecord finds the closed record (revision 0) of k in partition p: its records subject, read from the
// period's close on (they are committed when it closes).
func (s *Service) closedRecord(ctx context.Context, k recordKey, p int, closesAt time.Time) (*Record, Span, error) {
	subject := subjects.Records.Subject(k.product, k.contract, k.start, p)
	r, sp, err := s.findInSubject(ctx, subject, closesAt.Add(-time.Second), k.of, nil)
	sp.Partition = p
	return r, sp, err
}

// adjustmentOf finds the adjustment of k that the packet at seq made, in partition p: its adjustments subject,
// read from the packet's arrival until an adjustment of a later packet.
func (s *Service) adjustmentOf(ctx context.Context, k recordKey, p int, seq uint64, arrival time.Time) (*Record, Span, error) {
	subject := subjects.Adjustments.Subject(k.product, k.contract, k.start, p)
	r, sp, err := s.findInSubject(ctx, subject, arrival.Add(-time.Second),
		func(r *events.PeriodRecord) bool { return r.SourceSeq == seq && k.of(r) },
		func(recs []events.PeriodRecord) bool { return len(recs) > 0 && recs[len(recs)-1].SourceSeq > seq })
	sp.Partition = p
	return r, sp, err
}
