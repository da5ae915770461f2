package ingest

import (
	"slices"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// dropRemembered leaves out of b's sorted events (and order, in step) those whose key recent remembers
// having stored, reports them duplicate, and returns order and the partitions' bounds without them. Packets
// are then built from the rest only, each event encoded once: in a request that repeats some events of
// earlier ones (a producer resending single events among new ones) nearly every packet would otherwise hold
// one, and be encoded twice. A retry finds its request's keys all remembered or none (recentlyStored turns
// generations only between requests), so its packets are its first attempt's as long as the keys of other
// requests it repeats are still remembered or still forgotten; otherwise they get new msg-ids and the
// aggregator's de-duplication counts each event once.
func (b *batch) dropRemembered(recent *recentlyStored, order []int32, bounds []int) ([]int32, []int) {
	b.seen = slices.Grow(b.seen[:0], len(b.skeys))[:len(b.skeys)]
	if !recent.contains(b.skeys, b.seen) {
		return order, bounds
	}
	kept := 0
	for p := range len(bounds) - 1 {
		lo, hi := bounds[p], bounds[p+1]
		bounds[p] = kept
		for i := lo; i < hi; i++ {
			if b.seen[i] {
				b.results[b.sslots[i]].Status, b.results[b.sslots[i]].Message = events.StatusDuplicate, "already stored"
				continue
			}
			order[kept], b.sorted[kept], b.sslots[kept], b.skeys[kept] = order[i], b.sorted[i], b.sslots[i], b.skeys[i]
			kept++
		}
	}
	bounds[len(bounds)-1] = kept
	b.sorted, b.sslots, b.skeys = b.sorted[:kept], b.sslots[:kept], b.skeys[:kept]
	return order[:kept], bounds
}

// storedKeys is the keys of packets' events.
func storedKeys(packets []*packet) []eventKey {
	var keys []eventKey
	for _, p := range packets {
		keys = append(keys, p.keys...)
	}
	return keys
}
