package aggregate

import (
	"cmp"
	"slices"
	"strings"
)

// MaxGroupLinks bounds the trace contexts kept per open (product, contract, period): the first ones in stream
// order, distinct by traceparent.
const MaxGroupLinks = 8

// TraceLink is the trace context of an event folded into a closed period, for a span link of the work that
// publishes the period's records: the event's W3C traceparent (CloudEvents distributed-tracing extension) and
// its key. It takes no part in any record.
type TraceLink struct {
	TraceParent string
	Source, ID  string
}

// groupTraces is the trace set of one contract's keys in an open bucket: the first MaxGroupLinks distinct
// traceparents of the events applied to them, in stream order (sequence, then index in the packet), so every
// replay of the stream keeps the same set.
type groupTraces struct {
	contract string
	links    []TraceLink
}

// noteTrace adds the event's trace context to the set of contract in b unless the set is full or holds it.
// The strings are copied (one allocation) so the set does not keep a decoded packet in memory.
func (b *bucket) noteTrace(contract, traceParent, source, id string) {
	g := b.traceGroup(contract)
	if len(g.links) >= MaxGroupLinks {
		return
	}
	for i := range g.links {
		if g.links[i].TraceParent == traceParent {
			return
		}
	}
	buf := traceParent + source + id
	tp, rest := buf[:len(traceParent)], buf[len(traceParent):]
	g.links = append(g.links, TraceLink{TraceParent: tp, Source: rest[:len(source)], ID: rest[len(source):]})
}

// traceGroup returns the trace set of contract in b, adding an empty one.
func (b *bucket) traceGroup(contract string) *groupTraces {
	for i := range b.traces {
		if b.traces[i].contract == contract {
			return &b.traces[i]
		}
	}
	b.traces = append(b.traces, groupTraces{contract: contract, links: make([]TraceLink, 0, MaxGroupLinks)})
	return &b.traces[len(b.traces)-1]
}

// emitTraces appends the trace sets of the buckets closing to out and forgets them. The links go rank by rank
// (the first of every set, then the second of each, …), sets in record order (product, contract, period), so
// that a prefix of them covers as many closed periods as it can.
func emitTraces(closing []*bucket, out *Output) {
	var groups []traceRef
	for _, b := range closing {
		for i := range b.traces {
			groups = append(groups, traceRef{b, &b.traces[i]})
		}
	}
	slices.SortFunc(groups, func(x, y traceRef) int {
		if c := strings.Compare(x.b.prod.id, y.b.prod.id); c != 0 {
			return c
		}
		if c := strings.Compare(x.g.contract, y.g.contract); c != 0 {
			return c
		}
		return cmp.Compare(x.b.start, y.b.start)
	})
	for rank := 0; rank < MaxGroupLinks; rank++ {
		for _, r := range groups {
			if rank < len(r.g.links) {
				out.Links = append(out.Links, r.g.links[rank])
			}
		}
	}
	for _, b := range closing {
		b.traces = nil
	}
}

// traceRef is one contract's trace set in a bucket.
type traceRef struct {
	b *bucket
	g *groupTraces
}
