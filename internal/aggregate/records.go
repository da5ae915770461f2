package aggregate

import (
	"cmp"
	"slices"
	"strings"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// recordBase fills the identity of a's record.
func (s *State) recordBase(a *acc, b *bucket, kind events.RecordKind) events.PeriodRecord {
	m := &s.meters[a.key.meter]
	return events.PeriodRecord{
		Kind: kind, Product: m.product, Contract: m.contract, Marketplace: s.markets[a.market],
		Subscription: a.key.sub, Item: m.item, Tier: int(a.key.tier),
		PeriodStart: b.period.Start, PeriodEnd: b.period.End, Aggregation: s.specs[a.spec].agg, Partition: s.cfg.Partition,
	}
}

// closedRecord is revision 0 of a's key.
func (s *State) closedRecord(a *acc, b *bucket) events.PeriodRecord {
	r := s.recordBase(a, b, events.RecordClosed)
	r.Mode = events.ModeTotal
	r.Quantity = a.value(&s.specs[a.spec])
	r.Amount = a.amount()
	r.Events = a.events
	r.Digest = a.digest.String()
	r.SourceSeq = a.seq
	return r
}

// compareKeys orders keys as records are: product, contract, period, subscription, item, tier (a record
// identity has one key at most).
func (s *State) compareKeys(x, y *keyID) int {
	mx, my := &s.meters[x.meter], &s.meters[y.meter]
	if c := strings.Compare(mx.product, my.product); c != 0 {
		return c
	}
	if c := strings.Compare(mx.contract, my.contract); c != 0 {
		return c
	}
	if c := cmp.Compare(x.start, y.start); c != 0 {
		return c
	}
	if c := strings.Compare(x.sub, y.sub); c != 0 {
		return c
	}
	if c := strings.Compare(mx.item, my.item); c != 0 {
		return c
	}
	return cmp.Compare(x.tier, y.tier)
}

func sortMarks(ms []events.PartitionMark) {
	slices.SortFunc(ms, func(x, y events.PartitionMark) int {
		if c := strings.Compare(x.Product, y.Product); c != 0 {
			return c
		}
		if c := strings.Compare(x.Contract, y.Contract); c != 0 {
			return c
		}
		return x.PeriodStart.Compare(y.PeriodStart)
	})
}
