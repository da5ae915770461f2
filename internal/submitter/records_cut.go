package submitter

import (
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// A period's records, sorted by record id, are cut into parts as internal/ledger says (parts.go): the cut, the
// digest of a part and the quantity a record reports are the ledger's rules, which readers of a file's
// records (operator commands) apply too.

func partCount(n, limit int) int { return ledger.PartCount(n, limit) }

func partRange(part, limit, n int) (lo, hi int) { return ledger.PartRange(part, limit, n) }

// digestIDs is Entry.Digest of records in order.
func digestIDs(records []source) string {
	return ledger.RecordsDigest(len(records), func(i int) string { return records[i].id })
}

func reported(r *events.PeriodRecord) events.Decimal { return ledger.Reported(r) }

func changesNothing(r *events.PeriodRecord) bool { return ledger.ChangesNothing(r) }

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
