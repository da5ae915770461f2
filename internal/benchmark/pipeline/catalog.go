package pipeline

import (
	"fmt"
	"os"
	"strings"

	"github.com/usagepipe/usagepipe/internal/eventgen"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// item is one meter of every product. All are summed, so that the quantity Connect accepts for a key grows
// with every event and tells which of a key's events a file contains (truth.go).
type item struct {
	mpn       string
	precision string
	weight    float64 // share of events
	maxCents  int64   // quantities are drawn in 1..maxCents hundredths (integer items: whole units)
	integer   bool
}

// items are the meters of every product, the most used first.
var items = []item{
	{mpn: "API-CALLS", precision: "integer", weight: 0.5, maxCents: 100, integer: true},
	{mpn: "CPU-SECONDS", precision: "decimal(2)", weight: 0.3, maxCents: 9999},
	{mpn: "STORAGE-GB-HOURS", precision: "decimal(2)", weight: 0.2, maxCents: 999},
}

// productID and contractID name product i (0-based).
func productID(i int) string  { return fmt.Sprintf("PRD-700-000-%03d", i+1) }
func contractID(i int) string { return fmt.Sprintf("CRD-00000-00700-%05d", i+1) }

// subscriptionID is the Connect asset id of subscription s (eventgen.Subscription); it belongs to product
// s mod products.
func subscriptionID(s int) string { return eventgen.Subscription(s) }

// catalogYAML is the pipeline catalog of a run: products with fixed periods, the three items each.
func catalogYAML(c Config) string {
	var b strings.Builder
	b.WriteString("products:\n")
	for i := range c.Products {
		fmt.Fprintf(&b, "  - id: %s\n    name: Bench product %d\n    schema: QT\n    currency: USD\n", productID(i), i+1)
		fmt.Fprintf(&b, "    contracts: [%s]\n    period: {kind: fixed, every: %s}\n", contractID(i), c.Period)
		fmt.Fprintf(&b, "    allowed_lateness: %s\n    items:\n", c.Lateness)
		for _, it := range items {
			fmt.Fprintf(&b, "      - {mpn: %s, name: %s, unit: unit, precision: %s, aggregation: sum}\n", it.mpn, it.mpn, it.precision)
		}
	}
	return b.String()
}

// writeCatalog writes the pipeline catalog to path and returns it parsed.
func writeCatalog(path string, c Config) (*events.Catalog, error) {
	text := catalogYAML(c)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return nil, fmt.Errorf("pipeline: catalog: %w", err)
	}
	cat, err := events.ParseCatalog([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("pipeline: generated catalog: %w", err)
	}
	return cat, nil
}
