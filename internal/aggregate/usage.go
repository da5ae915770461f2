package aggregate

import (
	"slices"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// KeyUsage is one aggregate of a subscription as the state holds it now. For an open period it is what the
// closed record will say if nothing else arrives before the close: the same quantity, amount, events and
// digest. For a closed period (kept for late events until its end + max event age) it is the latest value,
// the closed record and every adjustment folded together.
type KeyUsage struct {
	Product     string             `json:"product"`
	Contract    string             `json:"contract"`
	Marketplace string             `json:"marketplace,omitempty"`
	Item        string             `json:"item"`
	Tier        int                `json:"tier,omitempty"`
	PeriodStart time.Time          `json:"period_start"`
	PeriodEnd   time.Time          `json:"period_end"`
	ClosesAt    time.Time          `json:"closes_at"` // stream time at which the period closes: end + allowed lateness
	Closed      bool               `json:"closed"`
	Aggregation events.Aggregation `json:"aggregation"`
	Quantity    events.Decimal     `json:"quantity"`
	Amount      *events.Decimal    `json:"amount,omitempty"`
	Events      int64              `json:"events"`             // events folded, before and after the close
	Revision    int                `json:"revision"`           // closed: the last revision emitted (0: the closed record)
	Digest      string             `json:"digest,omitempty"`   // open: events.Digest of the events folded so far
	LastSeq     uint64             `json:"last_seq,omitempty"` // stream sequence of the last packet that contributed
}

// Usage returns the aggregates of subscription sub, open and closed, sorted as records are (product, contract,
// period, item, tier). It reads every aggregate the state holds (no index by subscription is kept, so the
// fold pays nothing for it): a few milliseconds per million keys.
func (s *State) Usage(sub string) []KeyUsage {
	var refs []keyRef
	for _, b := range s.buckets {
		for _, idx := range b.keys {
			if s.slab.at(idx).key.sub == sub {
				refs = append(refs, keyRef{idx: idx, b: b})
			}
		}
	}
	slices.SortFunc(refs, func(x, y keyRef) int { return s.compareKeys(&s.slab.at(x.idx).key, &s.slab.at(y.idx).key) })
	out := make([]KeyUsage, len(refs))
	for i, r := range refs {
		out[i] = s.keyUsage(s.slab.at(r.idx), r.b)
	}
	return out
}

// keyUsage describes aggregate a of bucket b.
func (s *State) keyUsage(a *acc, b *bucket) KeyUsage {
	m := &s.meters[a.key.meter]
	sp := &s.specs[a.spec]
	u := KeyUsage{Product: m.product, Contract: m.contract, Marketplace: s.markets[a.market], Item: m.item,
		Tier: int(a.key.tier), PeriodStart: b.period.Start, PeriodEnd: b.period.End, ClosesAt: unixTime(b.due),
		Closed: b.closed, Aggregation: sp.agg, Quantity: a.value(sp), Amount: a.amount(), Events: a.events,
		Revision: int(a.rev), LastSeq: a.seq}
	if !b.closed {
		u.Digest = a.digest.String()
	}
	return u
}
