package ledger

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// What a file of a revision holds. A revision's records (revision 0: the period's closed records; n ≥ 1: the
// adjustments of supplement n that change a reported value), de-duplicated by record id and sorted by it, are
// cut into parts of at most Entry.Limit records: part i (1-based) holds records [(i−1)·limit, i·limit). The
// cut is fixed by the limit recorded when the revision is planned, so a later change of the limit never moves
// records between the parts of a planned period. Entry.Records and Entry.Digest describe a part's records.

// PartCount is the number of parts n records make (at least 1).
func PartCount(n, limit int) int {
	if n <= limit {
		return 1
	}
	return (n + limit - 1) / limit
}

// PartRange returns the indices [lo, hi) of part's records among n.
func PartRange(part, limit, n int) (lo, hi int) {
	lo = min((part-1)*limit, n)
	return lo, min(lo+limit, n)
}

// RecordsDigest is Entry.Digest of a part's record ids, in order: hex of the first 16 bytes of sha256 over
// the ids, each followed by a newline.
func RecordsDigest(n int, id func(i int) string) string {
	h := sha256.New()
	for i := range n {
		h.Write([]byte(id(i)))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Reported is the quantity a record reports in a usage file: a closed record its total, an adjustment its
// delta — a delta record as it is, a replace record the new value minus the one it replaces (nothing
// replaced counts as 0). Reporting every revision as a delta makes the sum of a key's reported quantities
// equal its latest value.
func Reported(r *events.PeriodRecord) events.Decimal {
	if r.Kind != events.RecordAdjustment || r.Mode != events.ModeReplace || r.Previous == nil {
		return r.Quantity
	}
	return r.Quantity.Sub(*r.Previous)
}

// ChangesNothing reports whether an adjustment reports neither a quantity nor an amount; such records are
// left out of supplements.
func ChangesNothing(r *events.PeriodRecord) bool {
	return r.Kind == events.RecordAdjustment && Reported(r).IsZero() && (r.Amount == nil || r.Amount.IsZero())
}
