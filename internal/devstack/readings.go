package devstack

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// EventType is the CloudEvents type the simulator and the examples use.
const EventType = "io.usagepipe.usage.v1"

// meter is one thing the simulator measures: an item of a product, for one subscription.
type meter struct {
	product *events.Product
	item    *events.Item
	subject string
}

// meters lists every (product, item, subscription) of the catalogs, in catalog order.
func meters(c Catalogs) []meter {
	var ms []meter
	for i := range c.Pipeline.Products {
		p := &c.Pipeline.Products[i]
		for _, sub := range c.Subscriptions(p.ID) {
			for j := range p.Items {
				ms = append(ms, meter{product: p, item: &p.Items[j], subject: sub})
			}
		}
	}
	return ms
}

// WireEvent is a usage event as a producer sends it (CloudEvents 1.0, structured JSON).
type WireEvent struct {
	SpecVersion string    `json:"specversion"`
	ID          string    `json:"id"`
	Source      string    `json:"source"`
	Type        string    `json:"type"`
	Subject     string    `json:"subject"`
	Time        string    `json:"time"`
	Data        WireUsage `json:"data"`
}

// WireUsage is the data of a WireEvent; decimals are strings, as producers are advised to send them.
type WireUsage struct {
	Product    string            `json:"product"`
	Item       string            `json:"item"`
	Quantity   string            `json:"quantity"`
	Amount     string            `json:"amount,omitempty"`
	Tier       int               `json:"tier,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// reading is a plausible event of m at t: a quantity within the item's precision, a tier for TR products,
// an amount for CR and PR products, and a user for unique_count items.
func (m meter) reading(rng *rand.Rand, id string, t time.Time) WireEvent {
	e := WireEvent{
		SpecVersion: "1.0", ID: id, Source: "/simulator/" + strings.ToLower(m.product.ID), Type: EventType,
		Subject: m.subject, Time: t.UTC().Format(time.RFC3339Nano),
		Data: WireUsage{Product: m.product.ID, Item: m.item.MPN, Quantity: m.quantity(rng)},
	}
	if m.product.Schema == events.SchemaTR {
		e.Data.Tier = 1 + rng.IntN(3)
	}
	if m.product.Schema.RequiresAmount() {
		e.Data.Amount = fixed(1+rng.Int64N(2_000_000), 4)
	}
	if a := m.item.UniqueAttribute; a != "" {
		e.Data.Attributes = map[string]string{a: fmt.Sprintf("user-%02d", rng.IntN(12))}
	}
	return e
}

// quantity is 1 for count items, a small whole number for integer items, and otherwise a value with all
// the decimals the item allows.
func (m meter) quantity(rng *rand.Rand) string {
	places := int(m.item.Precision)
	switch {
	case m.item.Aggregation == events.AggregationCount:
		return "1"
	case places == 0:
		return fixed(1+rng.Int64N(20), 0)
	default:
		scale := pow10(places)
		return fixed(1+rng.Int64N(50*scale), places)
	}
}

// fixed formats units / 10^places with exactly places decimals.
func fixed(units int64, places int) string {
	if places == 0 {
		return fmt.Sprint(units)
	}
	scale := pow10(places)
	return fmt.Sprintf("%d.%0*d", units/scale, places, units%scale)
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}
