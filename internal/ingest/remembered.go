package ingest

import (
	"slices"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// skipRemembered leaves out of packets the events this process remembers having stored, and reports them
// duplicate. A packet none of whose keys is remembered is kept as built, with the msg-id its first attempt
// had; one whose keys are all remembered is dropped. One with only some remembered (possible only when
// requests overlap: a request's own keys are remembered and forgotten together, see recentlyStored) is
// rebuilt from the others, under the msg-id of those.
func (s *Service) skipRemembered(b *batch, packets []*packet) []*packet {
	if s.recent == nil || len(b.skeys) == 0 {
		return packets
	}
	b.seen = slices.Grow(b.seen[:0], len(b.skeys))[:len(b.skeys)]
	if !s.recent.contains(b.skeys, b.seen) {
		return packets
	}
	out := packets[:0]
	for _, p := range packets {
		seen := b.seen[p.lo : p.lo+len(p.events)]
		n := 0
		for j, remembered := range seen {
			if remembered {
				b.results[p.slots[j]].Status, b.results[p.slots[j]].Message = events.StatusDuplicate, "already stored"
				n++
			}
		}
		switch {
		case n == 0:
			out = append(out, p)
		case n < len(seen):
			out = append(out, b.remainder(p, seen))
		}
	}
	return out
}

// remainder is a new packet of p's events that seen does not mark, encoded on its own.
func (b *batch) remainder(p *packet, seen []bool) *packet {
	r := &packet{partition: p.partition, lo: -1}
	for j, remembered := range seen {
		if !remembered {
			r.events, r.slots, r.keys = append(r.events, p.events[j]), append(r.slots, p.slots[j]), append(r.keys, p.keys[j])
		}
	}
	r.data = events.AppendPacket(nil, r.events)
	b.scratch, r.msgID = msgID(b.scratch[:0], r.partition, r.events)
	return r
}

// storedKeys is the keys of packets' events.
func storedKeys(packets []*packet) []eventKey {
	var keys []eventKey
	for _, p := range packets {
		keys = append(keys, p.keys...)
	}
	return keys
}
