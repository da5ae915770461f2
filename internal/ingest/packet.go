package ingest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strconv"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// maxPacketBytes is the size above which a partition's events are split into several packets.
const maxPacketBytes = 256 << 10

// packet is one message for USAGE_EVENTS: validated events of one partition, sorted by key.
type packet struct {
	partition int
	events    []events.Event
	slots     []int // slots[i] is the request position of events[i]
	data      []byte
	msgID     string
}

// subject is usage.events.<p>.
func (p *packet) subject() string { return subjectPrefix + strconv.Itoa(p.partition) }

const subjectPrefix = "usage.events."

// buildPackets groups b's events by partition, sorts each group by (source, id) and encodes it, splitting
// groups whose encoding exceeds maxPacketBytes. The same events always give the same packets and msg-ids,
// whatever their order in the request. The packets' events and data alias b's scratch space: every event is
// encoded once, in packet order, into b.data, and each packet's data is a piece of it.
func buildPackets(b *batch, partitions int) []*packet {
	evs, slots := b.events, b.slots
	order, bounds := partitionOrder(evs, partitions)
	b.sorted = slices.Grow(b.sorted[:0], len(evs))[:len(evs)]
	b.sslots = slices.Grow(b.sslots[:0], len(evs))[:len(evs)]
	sorted, sortedSlots := b.sorted, b.sslots
	for i, j := range order {
		sorted[i], sortedSlots[i] = evs[j], slots[j]
	}
	b.data, b.ends = b.data[:0], slices.Grow(b.ends[:0], len(evs))
	for i := range sorted {
		b.data = events.AppendPacket(b.data, sorted[i:i+1])
		b.ends = append(b.ends, len(b.data))
	}
	var out []*packet
	for p := range partitions {
		if lo, hi := bounds[p], bounds[p+1]; lo < hi {
			out = appendSplit(out, b, p, lo, hi)
		}
	}
	return out
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
// alone always fits).
func appendSplit(out []*packet, b *batch, partition, lo, hi int) []*packet {
	start, end := 0, b.ends[hi-1]
	if lo > 0 {
		start = b.ends[lo-1]
	}
	if end-start > maxPacketBytes && hi-lo > 1 {
		mid := lo + (hi-lo)/2
		out = appendSplit(out, b, partition, lo, mid)
		return appendSplit(out, b, partition, mid, hi)
	}
	evs := b.sorted[lo:hi]
	var id string
	b.scratch, id = msgID(b.scratch[:0], partition, evs)
	return append(out, &packet{partition: partition, events: evs, slots: b.sslots[lo:hi], data: b.data[start:end:end], msgID: id})
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
