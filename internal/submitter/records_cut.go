package submitter

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// A period's records, sorted by record id, are cut into parts of at most limit records: part i (1-based)
// holds records [(i−1)·limit, i·limit). The cut is fixed by the limit recorded in the ledger when the
// period is planned, so a later change of --max-records-per-file does not move records between parts.

// partCount is the number of parts n records make (at least 1).
func partCount(n, limit int) int {
	if n <= limit {
		return 1
	}
	return (n + limit - 1) / limit
}

// partRange returns the indices [lo, hi) of part's records among n.
func partRange(part, limit, n int) (lo, hi int) {
	lo = min((part-1)*limit, n)
	return lo, min(lo+limit, n)
}

// digestIDs is a digest of record ids in order: hex of the first 16 bytes of sha256 over the ids, each
// followed by a newline.
func digestIDs(records []source) string {
	h := sha256.New()
	for i := range records {
		h.Write([]byte(records[i].id))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// reported is the quantity a record reports: a closed record its total, an adjustment its delta — a delta
// record as it is, a replace record the new value minus the one it replaces (nothing replaced counts as 0).
// Reporting every revision as a delta makes the sum of a key's reported quantities equal its latest value.
func reported(r *events.PeriodRecord) events.Decimal {
	if r.Kind != events.RecordAdjustment || r.Mode != events.ModeReplace || r.Previous == nil {
		return r.Quantity
	}
	return r.Quantity.Sub(*r.Previous)
}

// changesNothing reports whether an adjustment reports neither a quantity nor an amount; such rows are left
// out of supplements.
func changesNothing(r *events.PeriodRecord) bool {
	return r.Kind == events.RecordAdjustment && reported(r).IsZero() && (r.Amount == nil || r.Amount.IsZero())
}

// withoutNoops drops the adjustments that change nothing.
func withoutNoops(records []source) []source {
	out := records[:0:0]
	for i := range records {
		if !changesNothing(&records[i].rec) {
			out = append(out, records[i])
		}
	}
	return out
}
