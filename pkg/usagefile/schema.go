package usagefile

import (
	"fmt"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// Schema rules come from events.Schema, the project's one definition:
// CR and PR records need an amount (events.Schema.RequiresAmount), TR
// records a tier of at least 1, other schemas no tier.

func checkSchema(s events.Schema) error {
	switch s {
	case events.SchemaQT, events.SchemaTR, events.SchemaCR, events.SchemaPR:
		return nil
	}
	return fmt.Errorf("unknown schema %q", string(s))
}

func needsTier(s events.Schema) bool { return s == events.SchemaTR }

// precisions are Connect's item precisions, smallest first.
var precisions = []events.Precision{
	events.PrecisionInteger, events.PrecisionDecimal1, events.PrecisionDecimal2,
	events.PrecisionDecimal4, events.PrecisionDecimal8,
}

// placesFor is the smallest precision, at least from, whose decimals hold d
// exactly; PrecisionDecimal8 when none does (the cell then carries every
// decimal of d, since StringFixed never rounds).
func placesFor(d events.Decimal, from events.Precision) events.Precision {
	for _, p := range precisions {
		if p >= from && d.Scale() <= int(p) {
			return p
		}
	}
	return events.PrecisionDecimal8
}
