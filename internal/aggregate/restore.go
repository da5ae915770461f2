package aggregate

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// Errors of Restore.
var (
	// ErrSnapshotFormat: the data is not an aggregate snapshot of a version this package reads.
	ErrSnapshotFormat = errors.New("aggregate: not a snapshot of a known version")
	// ErrSnapshotChecksum: the snapshot's checksum does not match (truncated or damaged data).
	ErrSnapshotChecksum = errors.New("aggregate: snapshot checksum mismatch")
	// ErrSnapshotPartition: the snapshot is of another partition than cfg.Partition.
	ErrSnapshotPartition = errors.New("aggregate: snapshot of another partition")
)

// Restore reads a state written by Snapshot. With the same cfg, the restored state behaves exactly as the one
// snapshotted. With a changed catalog, products and items keep their open and closed periods; new products and
// contracts start marking from MarkFrom; open periods take the new allowed lateness. A changed DedupHorizon
// re-tags the remembered ids conservatively (each as if it arrived at the end of its generation).
func Restore(cfg Config, r io.Reader) (*State, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	body, version, err := checkEnvelope(data)
	if err != nil {
		return nil, err
	}
	s := newState(cfg)
	d := &decoder{b: body}
	width, err := s.decodeHeader(d)
	if err != nil {
		return nil, err
	}
	cursors := s.decodeTables(d)
	s.loadCatalog(cfg.Catalog)
	s.restoreMarks(cursors)
	s.decodeBuckets(d, version)
	s.ids.decode(d, width, s.clock)
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing data")
	}
	if d.err != nil {
		return nil, fmt.Errorf("restore aggregate: %w", d.err)
	}
	s.recompute()
	return s, nil
}

// checkEnvelope checks the magic, checksum and version, and returns the body and the version.
func checkEnvelope(data []byte) ([]byte, uint64, error) {
	if len(data) < len(snapshotMagic)+4 || !bytes.HasPrefix(data, []byte(snapshotMagic)) {
		return nil, 0, ErrSnapshotFormat
	}
	n := len(data) - 4
	if crc32.Checksum(data[:n], crcTable) != binary.BigEndian.Uint32(data[n:]) {
		return nil, 0, ErrSnapshotChecksum
	}
	d := &decoder{b: data[len(snapshotMagic):n]}
	v := d.uvarint()
	if d.err != nil || v < 1 || v > snapshotVersion {
		return nil, 0, fmt.Errorf("%w (version %d)", ErrSnapshotFormat, v)
	}
	return d.b, v, nil
}

func (s *State) decodeHeader(d *decoder) (int64, error) {
	if p := d.varint(); d.err == nil && p != int64(s.cfg.Partition) {
		return 0, fmt.Errorf("%w: snapshot %d, config %d", ErrSnapshotPartition, p, s.cfg.Partition)
	}
	width := d.varint()
	if width <= 0 {
		d.fail("generation width")
	}
	s.clockSet = d.bool1()
	s.clock = d.varint()
	s.lastSeq = d.uvarint()
	s.marksOn = d.bool1()
	return width, nil
}

// markCursor identifies a mark cursor: a product and one of its contracts.
type markCursor struct{ product, contract string }

// decodeTables reads the meter and marketplace tables and returns the mark cursors.
func (s *State) decodeTables(d *decoder) map[markCursor]events.Period {
	for i, n := 0, d.count(4); i < n; i++ {
		m := meter{product: d.str(), item: d.str(), contract: d.str(), agg: events.Aggregation(d.str())}
		if s.meterID(m) != uint32(i) {
			d.fail("meter table")
		}
	}
	for i, n := 0, d.count(1); i < n; i++ {
		if s.marketID(d.str()) != uint32(i) {
			d.fail("marketplace table")
		}
	}
	cursors := make(map[markCursor]events.Period)
	for i, n := 0, d.count(2); i < n; i++ {
		id := d.str()
		for j, m := 0, d.count(2); j < m; j++ {
			c := markCursor{id, d.str()}
			var pd events.Period
			if d.bool1() {
				pd = events.Period{Start: unixTime(d.varint()), End: unixTime(d.varint())}
			}
			cursors[c] = pd
		}
	}
	return cursors
}

// restoreMarks sets the mark cursors: as snapshotted, or for a product or contract new in the catalog from
// MarkFrom (or the clock), as in every partition.
func (s *State) restoreMarks(cursors map[markCursor]events.Period) {
	if !s.marksOn {
		return
	}
	from := s.clock
	if !s.cfg.MarkFrom.IsZero() {
		from = s.cfg.MarkFrom.UnixNano()
	}
	for _, ps := range s.catalogProds {
		for ci, contract := range ps.p.Contracts {
			if pd, ok := cursors[markCursor{ps.id, contract}]; ok {
				ps.marks[ci] = pd
			} else {
				ps.marks[ci] = firstMarked(ps.p, from)
			}
		}
	}
}

func (s *State) decodeBuckets(d *decoder, version uint64) {
	for i, n := 0, d.count(8); i < n; i++ {
		ps := s.product(d.str())
		b := &bucket{prod: ps, period: events.Period{Start: unixTime(d.varint()), End: unixTime(d.varint())}}
		b.start = b.period.Start.UnixNano()
		b.due, b.expire, b.closed = d.varint(), d.varint(), d.bool1()
		if ps.p != nil { // the catalog's lateness and age apply from now on
			end := b.period.End.UnixNano()
			b.expire = end + int64(ps.p.MaxEventAge)
			if !b.closed {
				b.due = end + int64(ps.p.AllowedLateness)
			}
		}
		key := bucketKey{ps, b.start}
		if _, dup := s.buckets[key]; dup || d.err != nil {
			d.fail("bucket")
			return
		}
		s.buckets[key] = b
		nk := d.count(8)
		b.keys = make([]int32, 0, nk)
		for j := 0; j < nk && d.err == nil; j++ {
			s.decodeAcc(d, b)
		}
		if version >= snapshotVersionTraces {
			b.traces = decodeTraces(d, b.closed)
		}
	}
}

// decodeTraces reads what encodeTraces wrote; a closed bucket has none.
func decodeTraces(d *decoder, closed bool) []groupTraces {
	n := d.count(2)
	if n == 0 {
		return nil
	}
	if closed {
		d.fail("trace set of a closed period")
		return nil
	}
	traces := make([]groupTraces, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		g := groupTraces{contract: d.str()}
		m := d.count(3)
		if m > MaxGroupLinks {
			d.fail("trace set size")
			return nil
		}
		g.links = make([]TraceLink, 0, MaxGroupLinks)
		for j := 0; j < m; j++ {
			g.links = append(g.links, TraceLink{TraceParent: d.str(), Source: d.str(), ID: d.str()})
		}
		traces = append(traces, g)
	}
	return traces
}

func (s *State) decodeAcc(d *decoder, b *bucket) {
	idx := s.slab.alloc()
	a := s.slab.at(idx)
	a.key = keyID{sub: d.str(), start: b.start, meter: uint32(d.uvarint()), tier: int32(d.varint())}
	a.flags = d.byte1()
	a.qty = d.decimal()
	copy(a.digest[:], d.raw(len(a.digest)))
	a.events, a.seq, a.rev, a.market = d.varint(), d.uvarint(), int32(d.varint()), uint32(d.uvarint())
	if d.bool1() {
		x := a.extension()
		x.amount, x.at = d.decimal(), d.varint()
		if n := d.count(1); n > 0 {
			x.uniq = make(map[string]struct{}, n)
			for k := 0; k < n; k++ {
				x.uniq[d.str()] = struct{}{}
			}
		}
	}
	h := hashKeyID(&a.key)
	if int(a.key.meter) >= len(s.meters) || int(a.market) >= len(s.markets) || s.find(h, &a.key) >= 0 {
		d.fail("aggregate")
		return
	}
	s.insert(h, idx)
	b.keys = append(b.keys, idx)
}

func (d *decoder) decimal() events.Decimal {
	var v events.Decimal
	if err := v.UnmarshalText([]byte(d.str())); err != nil && d.err == nil {
		d.fail("decimal")
	}
	return v
}

// decode reads the table written by encode with generations of snapWidth. With the same generation width it is
// restored slot for slot; otherwise every id is re-tagged in the configured width and the table rebuilt.
func (s *idSet) decode(d *decoder, snapWidth, clock int64) {
	s.started, s.gen = d.bool1(), d.varint()
	nb := d.count(1)
	if nb < minBuckets || nb&(nb-1) != 0 {
		d.fail("dedup table size")
		return
	}
	width := s.width
	s.width = snapWidth
	s.resize(nb)
	for i := range s.buckets {
		b := &s.buckets[i]
		n := d.byte1()
		if n > bucketSlots {
			d.fail("dedup bucket")
			return
		}
		for j := 0; j < int(n); j++ {
			h, tag := d.u64(), d.byte1()
			b.push(h, tag)
			s.counts[tag]++
			s.used++
		}
	}
	if width != snapWidth && d.err == nil && s.started {
		s.rewidth(width, clock)
	}
	s.width = width
}

// rewidth re-tags every id for a new generation width, as if it arrived at the end of its old generation (or
// at clock, if earlier): ids are remembered for at least the new horizon.
func (s *idSet) rewidth(width, clock int64) {
	old := s.buckets
	oldGen, oldWidth := s.gen, s.width
	s.width = width
	s.gen = floorDiv(clock, width)
	s.used, s.counts = 0, [256]int{}
	s.resize(minBuckets)
	for i := range old {
		b := &old[i]
		for j := 0; j < b.len(); j++ {
			g := oldGen - int64(uint8(oldGen)-b.meta[j])
			ng := floorDiv(min(g*oldWidth+oldWidth-1, clock), width)
			if s.gen-ng > genSpan {
				continue
			}
			if (s.used+1)*100 > len(s.buckets)*bucketSlots*maxLoadPct {
				s.rebuild(len(s.buckets) * 2)
			}
			s.place(b.hash[j], uint8(ng))
			s.used++
			s.counts[uint8(ng)]++
		}
	}
}

func unixTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }
