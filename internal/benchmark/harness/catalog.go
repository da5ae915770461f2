package harness

import "github.com/usagepipe/usagepipe/pkg/events"

// DailyProduct is the product of DailyCatalog.
const DailyProduct = "PRD-BENCH-0001"

// dailyCatalog has daily periods, so nothing closes while a benchmark runs: it measures the fold and the
// reads, not the closing of periods.
const dailyCatalog = `products:
  - id: PRD-BENCH-0001
    name: Bench meter
    schema: QT
    currency: USD
    contracts: [CRD-BENCH1]
    period: {kind: daily}
    allowed_lateness: 1h
    items:
      - {mpn: UNITS, name: Units, unit: unit, precision: decimal(2), aggregation: sum}
      - {mpn: PEAK, name: Peak, unit: unit, precision: integer, aggregation: max}
`

// DailyCatalog is the catalog of the aggregator and explain benchmarks: one product (DailyProduct) with a
// summed and a maximum item, in daily periods.
func DailyCatalog() (*events.Catalog, error) { return events.ParseCatalog([]byte(dailyCatalog)) }
