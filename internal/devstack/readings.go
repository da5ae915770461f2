package devstack

import (
	"strings"

	"github.com/usagepipe/usagepipe/internal/eventgen"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// meters lists every (product, item, subscription) of the catalogs, in catalog order.
func meters(c Catalogs) []eventgen.Meter {
	return eventgen.Meters(c.Pipeline, func(p *events.Product) []string { return c.Subscriptions(p.ID) })
}

// simulatorSource is the CloudEvents source of the simulator's events of m: one per product.
func simulatorSource(m eventgen.Meter, _ int) string {
	return "/simulator/" + strings.ToLower(m.Product.ID)
}
