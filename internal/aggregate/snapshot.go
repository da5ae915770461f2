package aggregate

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"strings"
)

// Snapshot format: the magic, a version, the body (below), then the CRC-32C of everything before it,
// big-endian. The body of version 3 holds, in order: the header (partition, dedup generation width, clock,
// sequence, whether marks started), the meter table (product, item, contract), the fold spec table
// (aggregation, unique attribute, scale), the marketplace table, the products with a definition (in the
// catalog or retired), by id, each with its definition (productDef) and mark cursors (contract, started, first
// period start, next period), the buckets with their aggregates and trace sets, and the dedup table.
// Quantities and amounts are written as canonical decimal text, whatever their representation in memory.
// Buckets are written sorted by (product, period start) and everything else in a fixed order, so a state
// always writes the same bytes, and a restored state writes the bytes it was restored from.
//
// Versions 1 and 2 (read by restore_legacy.go) had meters with their aggregation and no spec table, mark
// cursors only for the catalog's products, no product definitions and, in version 1, no trace sets (a period
// open then closes with the links of its later events only); version 3 has no cumulative series (it was
// written before any). Snapshot writes version 4.
const (
	snapshotMagic   = "usagepipe.aggregate\n"
	snapshotVersion = 4
	// snapshotVersionTraces is the first version with trace sets.
	snapshotVersionTraces = 2
	// snapshotVersionDefs is the first version with fold specs and product definitions.
	snapshotVersionDefs = 3
	// snapshotVersionSeries is the first version with cumulative series.
	snapshotVersionSeries = 4
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Snapshot writes the state to w. It does not change the state.
func (s *State) Snapshot(w io.Writer) error {
	crc := crc32.New(crcTable)
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 64<<10)
	e := &encoder{w: bw}
	e.raw([]byte(snapshotMagic))
	e.uvarint(snapshotVersion)
	s.encodeHeader(e)
	s.encodeTables(e)
	s.encodeBuckets(e)
	s.ids.encode(e)
	s.encodeSeries(e)
	if e.err == nil {
		e.err = bw.Flush()
	}
	if e.err == nil {
		_, e.err = w.Write(binary.BigEndian.AppendUint32(nil, crc.Sum32()))
	}
	if e.err != nil {
		return fmt.Errorf("write aggregate snapshot: %w", e.err)
	}
	return nil
}

func (s *State) encodeHeader(e *encoder) {
	e.varint(int64(s.cfg.Partition))
	e.varint(int64(s.ids.width))
	e.bool1(s.clockSet)
	e.varint(s.clock)
	e.uvarint(s.lastSeq)
	e.bool1(s.marksOn)
}

func (s *State) encodeTables(e *encoder) {
	e.uvarint(uint64(len(s.meters)))
	for _, m := range s.meters {
		e.str(m.product)
		e.str(m.item)
		e.str(m.contract)
	}
	e.uvarint(uint64(len(s.specs)))
	for _, sp := range s.specs {
		e.str(string(sp.agg))
		e.str(sp.attr)
		e.varint(int64(sp.scale))
	}
	e.uvarint(uint64(len(s.markets)))
	for _, m := range s.markets {
		e.str(m)
	}
	e.uvarint(uint64(len(s.markProds)))
	for _, ps := range s.markProds {
		e.str(ps.id)
		def := defOf(ps.p)
		def.encode(e)
		encodeCursors(e, ps.marks)
	}
}

func encodeCursors(e *encoder, cs []markCursor) {
	e.uvarint(uint64(len(cs)))
	for _, c := range cs {
		e.str(c.contract)
		e.bool1(c.started)
		if !c.started {
			continue
		}
		e.varint(c.first)
		e.bool1(!c.next.IsZero())
		if !c.next.IsZero() {
			e.varint(c.next.Start.UnixNano())
			e.varint(c.next.End.UnixNano())
		}
	}
}

func (s *State) encodeBuckets(e *encoder) {
	bs := make([]*bucket, 0, len(s.buckets))
	for _, b := range s.buckets {
		bs = append(bs, b)
	}
	slices.SortFunc(bs, func(x, y *bucket) int {
		if c := strings.Compare(x.prod.id, y.prod.id); c != 0 {
			return c
		}
		return cmp.Compare(x.start, y.start)
	})
	e.uvarint(uint64(len(bs)))
	for _, b := range bs {
		e.str(b.prod.id)
		e.varint(b.period.Start.UnixNano())
		e.varint(b.period.End.UnixNano())
		e.varint(b.due)
		e.varint(b.expire)
		e.bool1(b.closed)
		e.uvarint(uint64(len(b.keys)))
		for _, idx := range b.keys {
			s.encodeAcc(e, s.slab.at(idx))
		}
		encodeTraces(e, b.traces)
	}
}

// encodeTraces writes a bucket's trace sets in their order (that of the contracts' first events).
func encodeTraces(e *encoder, traces []groupTraces) {
	e.uvarint(uint64(len(traces)))
	for _, g := range traces {
		e.str(g.contract)
		e.uvarint(uint64(len(g.links)))
		for _, l := range g.links {
			e.str(l.TraceParent)
			e.str(l.Source)
			e.str(l.ID)
		}
	}
}

// encode writes an aggregate except its period start, which is its bucket's.
func (s *State) encodeAcc(e *encoder, a *acc) {
	sp := &s.specs[a.spec]
	e.str(a.key.sub)
	e.uvarint(uint64(a.key.meter))
	e.uvarint(uint64(a.spec))
	e.varint(int64(a.key.tier))
	e.byte1(a.flags & persistentFlags)
	e.str(a.quantity(sp.scale).String())
	e.raw(a.digest[:])
	e.varint(a.events)
	e.uvarint(a.seq)
	e.varint(int64(a.rev))
	e.uvarint(uint64(a.market))
	if amount := a.amount(); amount != nil {
		e.str(amount.String())
	}
	switch sp.kind {
	case aggLast:
		e.varint(a.lastAt())
	case aggUnique:
		encodeUniq(e, a)
	}
}

func encodeUniq(e *encoder, a *acc) {
	vals := make([]string, 0, a.uniqueCount())
	for v := range a.uniqSet() {
		vals = append(vals, v)
	}
	slices.Sort(vals)
	e.uvarint(uint64(len(vals)))
	for _, v := range vals {
		e.str(v)
	}
}

// encode writes the table as laid out, bucket by bucket, so that a restored table is identical.
func (s *idSet) encode(e *encoder) {
	e.bool1(s.started)
	e.varint(s.gen)
	e.uvarint(uint64(len(s.buckets)))
	for i := range s.buckets {
		b := &s.buckets[i]
		e.byte1(uint8(b.len()))
		for j := 0; j < b.len(); j++ {
			e.u64(b.hash[j])
			e.byte1(b.meta[j])
		}
	}
}
