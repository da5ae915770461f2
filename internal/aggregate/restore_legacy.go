package aggregate

import (
	"github.com/usagepipe/usagepipe/pkg/events"
)

// legacyMeter is a meter of a version 1 or 2 snapshot, which included the aggregation: the meter and the fold
// spec it stands for now.
type legacyMeter struct{ meter, spec uint32 }

// decodeLegacyTables reads the tables of versions 1 and 2: meters with their aggregation, marketplaces, and
// mark cursors (of the products then in the catalog, without their definitions).
func (s *State) decodeLegacyTables(rs *restoring) {
	d := &rs.decoder
	for i, n := 0, d.count(4); i < n; i++ {
		m := meter{product: d.str(), item: d.str(), contract: d.str()}
		sp := legacySpec(s.cfg.Catalog, m, events.Aggregation(d.str()))
		rs.legacy = append(rs.legacy, legacyMeter{s.meterID(m), s.specID(sp)})
	}
	s.decodeMarkets(d)
	for i, n := 0, d.count(2); i < n && d.err == nil; i++ {
		ps := s.product(d.str())
		for j, m := 0, d.count(2); j < m; j++ {
			c := markCursor{contract: d.str(), started: s.marksOn, first: firstUnknown}
			if d.bool1() {
				c.next = events.Period{Start: unixTime(d.varint()), End: unixTime(d.varint())}
			}
			ps.marks = append(ps.marks, c)
		}
	}
}

// legacySpec is the fold spec of keys of meter m with aggregation agg: the catalog item's when it has that
// aggregation; otherwise the unique attribute is unknown (a unique_count key then dead-letters its events as
// missing_attribute) and the scale is the largest precision (the scale only chooses a representation).
func legacySpec(c *events.Catalog, m meter, agg events.Aggregation) foldSpec {
	if p, ok := c.Product(m.product); ok {
		if it, ok := p.Item(m.item); ok && it.Aggregation == agg {
			return specOf(it)
		}
	}
	sp := foldSpec{agg: agg, kind: kindOf(agg)}
	if sp.kind.hasQty() {
		sp.scale = int(events.PrecisionDecimal8)
	}
	return sp
}

// finishLegacyCursors checks that every product with mark cursors has a definition (the catalog's: versions 1
// and 2 kept none) and sets the first period of the cursors already started: the one MarkFrom gives with the
// catalog's lateness (unknown, so nothing is too old, when MarkFrom is zero).
func (s *State) finishLegacyCursors() error {
	for _, ps := range s.prods {
		if ps.p == nil && len(ps.marks) > 0 {
			return ErrSnapshotCatalog
		}
		for i := range ps.marks {
			c := &ps.marks[i]
			if c.started && c.first == firstUnknown && !s.cfg.MarkFrom.IsZero() {
				if pd := firstMarked(ps.p, s.cfg.MarkFrom.UnixNano()); !pd.IsZero() {
					c.first = pd.Start.UnixNano()
				}
			}
		}
	}
	return nil
}

// decodeLegacyAcc reads an aggregate of versions 1 and 2.
func (s *State) decodeLegacyAcc(rs *restoring, a *acc, start int64) {
	d := &rs.decoder
	a.key = keyID{sub: d.str(), start: start}
	m := d.uvarint()
	a.key.tier = int32(d.varint())
	if m >= uint64(len(rs.legacy)) {
		d.fail("aggregate")
		return
	}
	a.key.meter, a.spec = rs.legacy[m].meter, rs.legacy[m].spec
	a.flags = d.byte1() & persistentFlags
	scale := s.specs[a.spec].scale
	a.setQuantity(d.decimal(), scale)
	copy(a.digest[:], d.raw(len(a.digest)))
	a.events, a.seq, a.rev, a.market = d.varint(), d.uvarint(), int32(d.varint()), uint32(d.uvarint())
	if int(a.market) >= len(s.markets) {
		d.fail("aggregate")
	}
	if d.bool1() {
		amount, at := d.decimal(), d.varint()
		if a.flags&flagAmount != 0 {
			a.setAmount(amount)
		}
		if s.specs[a.spec].kind == aggLast {
			a.extension().at = at
		}
		decodeUniq(d, a)
	}
}
