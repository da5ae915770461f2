package lineage

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// fileOf finds the usage file that holds rec: for a closed record, the part of revision 0 of its period; for
// an adjustment, the part of the supplement whose range of adjustment messages holds its message. A part is
// found by the ledger's cut (ledger.PartRange over the revision's records sorted by id), checked against the
// entry's digest. Nil when no file holds it (yet): the note says why.
func (s *Service) fileOf(ctx context.Context, rec *Record) (*FileRef, string, error) {
	r := &rec.Record
	if rec.LeftOut {
		return nil, "this adjustment changes no reported value: supplements leave it out", nil
	}
	entries, err := s.ledger.Entries(ctx, ledger.PeriodPrefix(r.Product, r.Contract, r.PeriodStart))
	if err != nil {
		return nil, "", fmt.Errorf("lineage: ledger: %w", err)
	}
	rev := revisionOf(entries, rec)
	if rev == nil {
		if r.Kind == events.RecordClosed {
			return nil, "no file planned yet: the submitter plans a period once every partition has marked it", nil
		}
		return nil, "in no supplement yet: the submitter plans supplements of adjustments after --supplement-delay", nil
	}
	e, err := s.partHolding(ctx, rev, rec.RecordID)
	if err != nil {
		return nil, "", err
	}
	if e == nil {
		return nil, fmt.Sprintf("revision %d of the period does not hold record %s by the ledger's cut", rev[0].Revision, rec.RecordID), nil
	}
	return s.fileRef(ctx, e, rec), "", nil
}

// revisionOf returns the entries of the revision that holds rec (all its parts), or nil.
func revisionOf(entries []*ledger.Entry, rec *Record) []*ledger.Entry {
	var out []*ledger.Entry
	for _, e := range entries {
		if rec.Record.Kind == events.RecordClosed && e.Revision == 0 ||
			rec.Record.Kind == events.RecordAdjustment && e.Revision > 0 && e.FromSeq < rec.Seq && rec.Seq <= e.ToSeq {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b *ledger.Entry) int { return cmp.Compare(a.Part, b.Part) })
	return out
}

// partHolding returns the part of a revision that holds recordID: the only one, or the one the ledger's cut
// puts it in (its digest checked); nil if none.
func (s *Service) partHolding(ctx context.Context, parts []*ledger.Entry, recordID string) (*ledger.Entry, error) {
	first := parts[0]
	if first.Parts == 1 {
		return first, nil
	}
	ids, err := s.revisionIDs(ctx, first)
	if err != nil {
		return nil, err
	}
	i, ok := slices.BinarySearch(ids, recordID)
	if !ok {
		return nil, nil
	}
	for _, e := range parts {
		lo, hi := ledger.PartRange(e.Part, e.Limit, len(ids))
		if lo <= i && i < hi && ledger.RecordsDigest(hi-lo, func(j int) string { return ids[lo+j] }) == e.Digest {
			return e, nil
		}
	}
	return nil, nil
}

// revisionIDs reads the sorted record ids of e's revision (revisionRecords).
func (s *Service) revisionIDs(ctx context.Context, e *ledger.Entry) ([]string, error) {
	recs, err := s.revisionRecords(ctx, e)
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.RecordID
	}
	return ids, err
}

// revisionRecords reads the records of e's revision as the submitter planned them, sorted by record id: the
// messages of its sequence range, de-duplicated by record id, without the adjustments that change nothing.
func (s *Service) revisionRecords(ctx context.Context, e *ledger.Entry) ([]*Record, error) {
	output := subjects.Records
	if e.Revision > 0 {
		output = subjects.Adjustments
	}
	seen := map[string]bool{}
	var out []*Record
	_, err := s.readSpan(ctx, bus.StreamAgg, output.Period(e.Product, e.Contract, e.PeriodStart), e.FromSeq+1, time.Time{},
		func(m bus.Msg) bool { return e.ToSeq > 0 && m.Seq > e.ToSeq }, func(m bus.Msg) error {
			recs, err := decodeRecords(m.Data)
			for i := range recs {
				r := newRecord(recs[i], m)
				if !seen[r.RecordID] && (e.Revision == 0 || !r.LeftOut) {
					seen[r.RecordID] = true
					out = append(out, r)
				}
			}
			return err
		})
	slices.SortFunc(out, func(a, b *Record) int { return cmp.Compare(a.RecordID, b.RecordID) })
	return out, err
}

// partRecords are the records of e's part.
func (s *Service) partRecords(ctx context.Context, e *ledger.Entry) ([]*Record, error) {
	recs, err := s.revisionRecords(ctx, e)
	if err != nil {
		return nil, err
	}
	lo, hi := ledger.PartRange(e.Part, max(e.Limit, 1), len(recs))
	return recs[lo:hi], nil
}
