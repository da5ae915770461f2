package aggregate

import (
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// ErrSnapshotCatalog: a version 1 or 2 snapshot has mark cursors of a product the catalog lacks. Those versions
// do not record a product's periods, so the product could not be marked (its records would never be filed).
// Restore such a snapshot with the catalog it was taken with, then change the catalog (Snapshot, then Restore
// with the new one): from version 3 on, a snapshot keeps the definition of every product it marks.
var ErrSnapshotCatalog = errors.New("aggregate: version 1 or 2 snapshot with marks of a product the catalog lacks")

// productDef is what a snapshot keeps of a product's definition: what its periods, closes and expiries need,
// so that a product that leaves the catalog is still closed, expired and marked as it was.
type productDef struct {
	timeZone                 string
	kind                     events.PeriodKind
	cutoffDay, daysBeforeEnd int64
	every, lateness, maxAge  time.Duration
}

func defOf(p *events.Product) productDef {
	return productDef{
		timeZone: p.TimeZone, kind: p.Period.Kind,
		cutoffDay: int64(p.Period.CutoffDay), daysBeforeEnd: int64(p.Period.DaysBeforeEnd),
		every: p.Period.Every, lateness: p.AllowedLateness, maxAge: p.MaxEventAge,
	}
}

func (d *productDef) encode(e *encoder) {
	e.str(d.timeZone)
	e.str(string(d.kind))
	e.varint(d.cutoffDay)
	e.varint(d.daysBeforeEnd)
	e.varint(int64(d.every))
	e.varint(int64(d.lateness))
	e.varint(int64(d.maxAge))
}

func decodeDef(d *decoder) productDef {
	return productDef{
		timeZone: d.str(), kind: events.PeriodKind(d.str()), cutoffDay: d.varint(), daysBeforeEnd: d.varint(),
		every: time.Duration(d.varint()), lateness: time.Duration(d.varint()), maxAge: time.Duration(d.varint()),
	}
}

// product rebuilds the definition of retired product id. The zone is loaded as the catalog loads it.
func (d *productDef) product(id string) (*events.Product, error) {
	loc, err := time.LoadLocation(d.timeZone)
	if err != nil {
		return nil, fmt.Errorf("%w: zone of retired product %s: %v", errCorrupt, id, err)
	}
	p := &events.Product{
		ID: id, TimeZone: d.timeZone, Location: loc, AllowedLateness: d.lateness, MaxEventAge: d.maxAge,
		Period: events.PeriodSpec{Kind: d.kind, CutoffDay: int(d.cutoffDay), DaysBeforeEnd: int(d.daysBeforeEnd),
			Every: d.every, Location: loc},
	}
	if p.Period.Containing(time.Unix(0, 0)).IsZero() {
		return nil, fmt.Errorf("%w: periods of retired product %s", errCorrupt, id)
	}
	return p, nil
}
