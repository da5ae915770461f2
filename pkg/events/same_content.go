package events

import "maps"

// SameContent reports whether a and b are the same event apart from their trace context (traceparent,
// tracestate): equal attributes and data, times and decimals compared by value. A producer's resends of one
// event have the same content; two events with one Key and other content conflict.
func SameContent(a, b *Event) bool {
	return a.SpecVersion == b.SpecVersion && a.ID == b.ID && a.Source == b.Source && a.Type == b.Type &&
		a.Subject == b.Subject && a.Time.Equal(b.Time) && a.DataContentType == b.DataContentType &&
		sameUsage(&a.Data, &b.Data)
}

func sameUsage(a, b *Usage) bool {
	return a.Product == b.Product && a.Item == b.Item && a.Quantity.Equal(b.Quantity) && sameAmount(a.Amount, b.Amount) &&
		a.Tier == b.Tier && a.Marketplace == b.Marketplace && a.Contract == b.Contract &&
		maps.Equal(a.Attributes, b.Attributes) && sameCumulative(a.Cumulative, b.Cumulative)
}

func sameCumulative(a, b *Cumulative) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Series == b.Series && a.Start.Equal(b.Start)
}

func sameAmount(a, b *Decimal) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
