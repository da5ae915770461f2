package submitter

import (
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usagefile"
)

// specFor copies from the catalog what the workbook of a product's file needs. Items the catalog does not
// know (it changed since the aggregator closed the period) are found by MPN with the widest precision;
// Connect then judges them.
func specFor(cat *events.Catalog, product string, records []source) (FileSpec, error) {
	p, ok := cat.Product(product)
	if !ok {
		return FileSpec{}, fmt.Errorf("%w: %q", errUnknownProduct, product)
	}
	spec := FileSpec{ProductName: p.Name, Schema: p.Schema, Currency: p.Currency, AssetSearch: p.AssetSearch,
		TimeZone: p.TimeZone, Items: map[string]ItemSpec{}}
	if spec.AssetSearch == "" {
		spec.AssetSearch = events.DefaultAssetSearch
	}
	if spec.ProductName == "" {
		spec.ProductName = p.ID
	}
	for i := range records {
		mpn := records[i].rec.Item
		if _, done := spec.Items[mpn]; !done {
			spec.Items[mpn] = itemSpec(p, mpn)
		}
	}
	return spec, nil
}

func itemSpec(p *events.Product, mpn string) ItemSpec {
	it, ok := p.Item(mpn)
	if !ok {
		return ItemSpec{Criteria: usagefile.ItemByMPN, Value: mpn, Precision: events.PrecisionDecimal8}
	}
	criteria := it.ItemSearch
	if criteria == "" {
		criteria = events.DefaultItemSearch
	}
	return ItemSpec{Criteria: criteria, Value: it.SearchValueOf(), Precision: it.Precision}
}

// location is the product's time zone (UTC when unknown), for file names.
func (s *FileSpec) location() *time.Location {
	if loc, err := time.LoadLocation(s.TimeZone); err == nil && s.TimeZone != "" {
		return loc
	}
	return time.UTC
}
