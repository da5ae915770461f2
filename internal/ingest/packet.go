package ingest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// maxPacketBytes is the size above which a partition's events are split into several packets. Sizes are
// counted as if every event that carries the request's trace context carried the largest one allowed
// (traceAllowance), so where a request splits never depends on its tracing headers.
const maxPacketBytes = 256 << 10

// maxTraceStateBytes bounds the request's tracestate written into events; a longer one is left out of them
// (W3C trace context lets a vendor drop tracestate). A traceparent is always 55 bytes.
const maxTraceStateBytes = 512

// traceAllowance is what packet sizing counts for the request's trace context in an event: the encoding of
// the largest traceparent and tracestate allowed.
var traceAllowance = events.TraceFieldsLen(strings.Repeat("0", 55), strings.Repeat("a", maxTraceStateBytes))

// packet is one message for USAGE_EVENTS: validated events of one partition, sorted by key.
type packet struct {
	partition int
	events    []events.Event // sorted by key
	slots     []int          // slots[i] is the request position of events[i]
	keys      []eventKey     // keys[i] is the key of events[i]
	data      []byte
	msgID     string
}

// subject is usage.events.<p>.
func (p *packet) subject() string { return subjects.Events(p.partition) }

// buildPackets groups b's events by partition, sorts each group by (source, id), leaves out the events
// recent remembers having stored (dropRemembered; recent may be nil) and encodes each group, splitting groups
// whose size exceeds maxPacketBytes. The same events and memory always give the same packets and msg-ids,
// whatever their order in the request and whatever the request's trace context. The packets' events and
// data alias b's scratch space: every event is encoded once, in packet order, into b.data, and each
// packet's data is a piece of it.
func buildPackets(b *batch, partitions int, recent *recentlyStored) []*packet {
	order, bounds := partitionOrder(b.events, partitions)
	b.sortBy(order)
	if recent != nil {
		order, bounds = b.dropRemembered(recent, order, bounds)
	}
	injected := events.TraceFieldsLen(b.tp, b.ts)
	b.data, b.ends, b.sizes = b.data[:0], slices.Grow(b.ends[:0], len(order)), slices.Grow(b.sizes[:0], len(order))
	size := 0
	for i := range b.sorted {
		start := len(b.data)
		b.data = events.AppendPacket(b.data, b.sorted[i:i+1])
		size += len(b.data) - start
		if b.traced[order[i]] {
			size += traceAllowance - injected
		}
		b.ends, b.sizes = append(b.ends, len(b.data)), append(b.sizes, size)
	}
	var out []*packet
	for p := range partitions {
		if lo, hi := bounds[p], bounds[p+1]; lo < hi {
			out = appendSplit(out, b, p, lo, hi)
		}
	}
	return out
}

// sortBy fills b's sorted scratch (events, slots, keys) in order.
func (b *batch) sortBy(order []int32) {
	n := len(order)
	b.sorted = slices.Grow(b.sorted[:0], n)[:n]
	b.sslots = slices.Grow(b.sslots[:0], n)[:n]
	b.skeys = slices.Grow(b.skeys[:0], n)[:n]
	for i, j := range order {
		b.sorted[i], b.sslots[i], b.skeys[i] = b.events[j], b.slots[j], b.keys[j]
	}
}

// partitionOrder returns the indexes of evs ordered by partition, then key, and where each partition starts:
// partition p is order[bounds[p]:bounds[p+1]].
func partitionOrder(evs []events.Event, partitions int) (order []int32, bounds []int) {
	parts := make([]int32, len(evs))
	bounds = make([]int, partitions+1)
	for i := range evs {
		p := events.Partition(evs[i].Subject, partitions)
		parts[i] = int32(p)
		bounds[p+1]++
	}
	for p := range partitions {
		bounds[p+1] += bounds[p]
	}
	next := slices.Clone(bounds[:partitions])
	order = make([]int32, len(evs))
	for i, p := range parts {
		order[next[p]] = int32(i)
		next[p]++
	}
	for p := range partitions {
		slices.SortFunc(order[bounds[p]:bounds[p+1]], func(a, b int32) int {
			return evs[a].Key().Compare(evs[b].Key())
		})
	}
	return order, bounds
}

// appendSplit makes b's sorted events [lo, hi) one packet, or halves them until every half fits (an event
// alone always fits). Sizes are b.sizes', data b.ends'.
func appendSplit(out []*packet, b *batch, partition, lo, hi int) []*packet {
	if span(b.sizes, lo, hi) > maxPacketBytes && hi-lo > 1 {
		mid := lo + (hi-lo)/2
		out = appendSplit(out, b, partition, lo, mid)
		return appendSplit(out, b, partition, mid, hi)
	}
	evs := b.sorted[lo:hi]
	var id string
	b.scratch, id = msgID(b.scratch[:0], partition, evs)
	start, end := b.ends[hi-1]-span(b.ends, lo, hi), b.ends[hi-1]
	return append(out, &packet{
		partition: partition, events: evs, slots: b.sslots[lo:hi], keys: b.skeys[lo:hi],
		data: b.data[start:end:end], msgID: id,
	})
}

// span is the length of the items [lo, hi) of cumulative ends.
func span(ends []int, lo, hi int) int {
	if lo == 0 {
		return ends[hi-1]
	}
	return ends[hi-1] - ends[lo-1]
}

// msgID is the packet's Nats-Msg-Id: hex SHA-256 of the partition and the sorted keys, each length-prefixed.
// It hashes in scratch and returns it (grown) for reuse.
func msgID(scratch []byte, partition int, evs []events.Event) ([]byte, string) {
	scratch = binary.AppendUvarint(scratch, uint64(partition))
	for i := range evs {
		scratch = appendField(appendField(scratch, evs[i].Source), evs[i].ID)
	}
	sum := sha256.Sum256(scratch)
	return scratch, hex.EncodeToString(sum[:])
}

func appendField(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}
