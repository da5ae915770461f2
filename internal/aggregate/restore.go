package aggregate

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"slices"
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
// snapshotted. With another catalog it is how a catalog change takes effect (see the package doc): keys keep
// the aggregation they were created with; products and contracts that left the catalog are retired (their
// periods still close, expire and are marked; their events are dead letters); new products and contracts
// start marking from MarkFrom; open periods take the new allowed lateness. A changed DedupHorizon re-tags the
// remembered ids: each is remembered for at least the new horizon after its arrival (see idSet.rewidth).
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
	rs := &restoring{decoder: decoder{b: body}, version: version}
	width, err := s.decodeHeader(&rs.decoder)
	if err != nil {
		return nil, err
	}
	if err := s.restoreTables(rs); err != nil {
		return nil, err
	}
	s.decodeBuckets(rs)
	s.ids.decode(&rs.decoder, width, s.clock)
	if rs.version >= snapshotVersionSeries {
		s.decodeSeries(&rs.decoder)
	}
	if rs.err == nil && len(rs.b) != 0 {
		rs.fail("trailing data")
	}
	if rs.err != nil {
		return nil, fmt.Errorf("restore aggregate: %w", rs.err)
	}
	s.recompute()
	return s, nil
}

// restoring is the decoder of a snapshot with what reading it needs besides the bytes.
type restoring struct {
	decoder
	version uint64
	defs    map[string]productDef
	legacy  []legacyMeter // versions 1 and 2: meter and spec of each meter of the snapshot
}

// restoreTables reads the tables, makes cfg's catalog the state's (retiring the snapshot's products it lacks)
// and starts the cursors new to the state from MarkFrom (or the clock), as in every partition.
func (s *State) restoreTables(rs *restoring) error {
	if rs.version < snapshotVersionDefs {
		s.decodeLegacyTables(rs)
	} else {
		s.decodeTables(rs)
	}
	err := rs.err
	if err == nil {
		err = s.retire(rs)
	}
	if err != nil {
		return fmt.Errorf("restore aggregate: %w", err)
	}
	s.loadCatalog(s.cfg.Catalog)
	if rs.version < snapshotVersionDefs {
		if err := s.finishLegacyCursors(); err != nil {
			return fmt.Errorf("restore aggregate: %w", err)
		}
	}
	if s.marksOn {
		from := s.clock
		if !s.cfg.MarkFrom.IsZero() {
			from = s.cfg.MarkFrom.UnixNano()
		}
		s.startCursors(from)
	}
	return nil
}

// retire gives every product of the snapshot that the catalog lacks the definition it had.
func (s *State) retire(rs *restoring) error {
	ids := slices.Sorted(maps.Keys(rs.defs))
	for _, id := range ids {
		if _, ok := s.cfg.Catalog.Product(id); ok {
			continue
		}
		def := rs.defs[id]
		p, err := def.product(id)
		if err != nil {
			return err
		}
		s.prods[id].p = p
	}
	return nil
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

// decodeTables reads what encodeTables wrote.
func (s *State) decodeTables(rs *restoring) {
	d := &rs.decoder
	for i, n := 0, d.count(3); i < n; i++ {
		if s.meterID(meter{product: d.str(), item: d.str(), contract: d.str()}) != uint32(i) {
			d.fail("meter table")
		}
	}
	for i, n := 0, d.count(3); i < n; i++ {
		sp := foldSpec{agg: events.Aggregation(d.str()), attr: d.str(), scale: int(d.varint())}
		if sp.scale < 0 || sp.scale > events.MaxFixedScale || s.specID(sp) != uint32(i) {
			d.fail("spec table")
		}
	}
	s.decodeMarkets(d)
	rs.defs = make(map[string]productDef)
	for i, n := 0, d.count(9); i < n && d.err == nil; i++ {
		ps := s.product(d.str())
		if _, dup := rs.defs[ps.id]; dup {
			d.fail("product table")
		}
		rs.defs[ps.id] = decodeDef(d)
		ps.marks = decodeCursors(d, s.marksOn)
	}
}

func (s *State) decodeMarkets(d *decoder) {
	for i, n := 0, d.count(1); i < n; i++ {
		if s.marketID(d.str()) != uint32(i) {
			d.fail("marketplace table")
		}
	}
}

// decodeCursors reads what encodeCursors wrote; a cursor is started only once marks are on.
func decodeCursors(d *decoder, marksOn bool) []markCursor {
	n := d.count(2)
	cs := make([]markCursor, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		c := markCursor{contract: d.str(), started: d.bool1(), first: firstUnknown}
		if c.started {
			c.first = d.varint()
			if d.bool1() {
				c.next = events.Period{Start: unixTime(d.varint()), End: unixTime(d.varint())}
			}
		}
		if c.started != marksOn || slices.ContainsFunc(cs, func(o markCursor) bool { return o.contract == c.contract }) {
			d.fail("mark cursor")
		}
		cs = append(cs, c)
	}
	return cs
}

func (s *State) decodeBuckets(rs *restoring) {
	d := &rs.decoder
	for i, n := 0, d.count(8); i < n; i++ {
		ps := s.product(d.str())
		b := &bucket{prod: ps, period: events.Period{Start: unixTime(d.varint()), End: unixTime(d.varint())}}
		b.start = b.period.Start.UnixNano()
		b.due, b.expire, b.closed = d.varint(), d.varint(), d.bool1()
		if ps.p != nil { // the definition's lateness and age apply from now on
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
			s.decodeAcc(rs, b)
		}
		if rs.version >= snapshotVersionTraces {
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

func (s *State) decodeAcc(rs *restoring, b *bucket) {
	idx := s.slab.alloc()
	a := s.slab.at(idx)
	if rs.version < snapshotVersionDefs {
		s.decodeLegacyAcc(rs, a, b.start)
	} else {
		s.decodeAccV3(&rs.decoder, a, b.start)
	}
	h := hashKeyID(&a.key)
	if rs.err != nil || s.find(h, &a.key) >= 0 { // two aggregates of one record identity
		rs.fail("aggregate")
		return
	}
	s.insert(h, idx)
	b.keys = append(b.keys, idx)
}

// decodeAccV3 reads what encodeAcc wrote.
func (s *State) decodeAccV3(d *decoder, a *acc, start int64) {
	a.key = keyID{sub: d.str(), start: start, meter: uint32(d.uvarint())}
	a.spec, a.key.tier, a.flags = uint32(d.uvarint()), int32(d.varint()), d.byte1()
	if int(a.key.meter) >= len(s.meters) || int(a.spec) >= len(s.specs) || a.flags&^persistentFlags != 0 {
		d.fail("aggregate")
		return
	}
	sp := &s.specs[a.spec]
	a.setQuantity(d.decimal(), sp.scale)
	copy(a.digest[:], d.raw(len(a.digest)))
	a.events, a.seq, a.rev, a.market = d.varint(), d.uvarint(), int32(d.varint()), uint32(d.uvarint())
	if int(a.market) >= len(s.markets) {
		d.fail("aggregate")
	}
	if a.flags&flagAmount != 0 {
		a.setAmount(d.decimal())
	}
	switch sp.kind {
	case aggLast:
		a.extension().at = d.varint()
	case aggUnique:
		decodeUniq(d, a)
	}
}

func decodeUniq(d *decoder, a *acc) {
	n := d.count(1)
	if n == 0 {
		return
	}
	x := a.extension()
	x.uniq = make(map[string]struct{}, n)
	for k := 0; k < n; k++ {
		x.uniq[d.str()] = struct{}{}
	}
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
// at clock, if earlier): an id is remembered for at least the new horizon H2 after its arrival and less than
// 9/8·H2 + H1/8 (H1 the old horizon), whatever clock the switch happens at (TestDedupHorizonChange).
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
