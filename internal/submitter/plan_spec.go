package submitter

import (
	"fmt"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usagefile"
)

// specFor copies from the catalog what the workbook of a product's file needs. Items the catalog does not
// know (it changed since the aggregator closed the period) are found by MPN with the widest precision;
// Connect then judges them.
func specFor(cat *events.Catalog, product string, records []source) (ledger.FileSpec, error) {
	p, ok := cat.Product(product)
	if !ok {
		return ledger.FileSpec{}, fmt.Errorf("%w: %q", errUnknownProduct, product)
	}
	spec := ledger.FileSpec{ProductName: p.Name, Schema: p.Schema, Currency: p.Currency, AssetSearch: p.AssetSearch,
		TimeZone: p.TimeZone, Items: map[string]ledger.ItemSpec{}}
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

func itemSpec(p *events.Product, mpn string) ledger.ItemSpec {
	it, ok := p.Item(mpn)
	if !ok {
		return ledger.ItemSpec{Criteria: usagefile.ItemByMPN, Value: mpn, Precision: events.PrecisionDecimal8}
	}
	criteria := it.ItemSearch
	if criteria == "" {
		criteria = events.DefaultItemSearch
	}
	return ledger.ItemSpec{Criteria: criteria, Value: it.SearchValueOf(), Precision: it.Precision}
}
