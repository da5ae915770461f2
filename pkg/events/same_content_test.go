package events

import (
	"testing"
	"time"
)

func TestSameContent(t *testing.T) {
	base := sampleEvents()[0]
	same := base
	same.TraceParent, same.TraceState = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "k=v"
	same.Time = base.Time.In(time.FixedZone("x", 3600))
	same.Data.Quantity = MustDecimal(base.Data.Quantity.String() + "000")
	if !SameContent(&base, &same) {
		t.Error("other trace context, zone and trailing zeros: want the same content")
	}
	amount := MustDecimal("1")
	for name, change := range map[string]func(e *Event){
		"quantity":  func(e *Event) { e.Data.Quantity = MustDecimal("999") },
		"time":      func(e *Event) { e.Time = e.Time.Add(time.Nanosecond) },
		"subject":   func(e *Event) { e.Subject += "x" },
		"amount":    func(e *Event) { e.Data.Amount = &amount },
		"attribute": func(e *Event) { e.Data.Attributes = map[string]string{"k": "other"} },
		"tier":      func(e *Event) { e.Data.Tier++ },
	} {
		other := base
		change(&other)
		if SameContent(&base, &other) {
			t.Errorf("another %s: want other content", name)
		}
	}
}
