package events

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// RecordID is the Connect record_id of r: 40 lowercase hex characters of
// sha256 over a versioned, NUL-separated list of product, contract,
// subscription, item, tier, period start (UTC, nanoseconds) and revision,
// and, for a resubmission, the dead letter it resubmits. It is the same in
// every run and on every replica.
func (r *PeriodRecord) RecordID() string {
	if r.Resubmits == "" {
		return r.OriginID()
	}
	b := append([]byte(r.OriginID()), 0)
	b = append(b, "resubmits"...)
	b = append(b, 0)
	b = append(b, r.Resubmits...)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:20])
}

// OriginID is the record id r has when it is not a resubmission: the same for the record the aggregator
// emitted and for every resubmission of it.
func (r *PeriodRecord) OriginID() string {
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
