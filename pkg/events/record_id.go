package events

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// RecordID is the Connect record_id of r: 40 lowercase hex characters of
// sha256 over a versioned, NUL-separated list of product, contract,
// subscription, item, tier, period start (UTC, nanoseconds) and revision.
// It is the same in every run and on every replica.
func (r *PeriodRecord) RecordID() string {
	b := make([]byte, 0, 160)
	b = append(b, "usagepipe.record.v1"...)
	for _, s := range [...]string{r.Product, r.Contract, r.Subscription, r.Item} {
		b = append(b, 0)
		b = append(b, s...)
	}
	b = append(b, 0)
	b = strconv.AppendInt(b, int64(r.Tier), 10)
	b = append(b, 0)
	b = r.PeriodStart.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, 0)
	b = strconv.AppendInt(b, int64(r.Revision), 10)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:20])
}
