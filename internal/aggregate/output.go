package aggregate

import "github.com/usagepipe/usagepipe/pkg/events"

// Output is what applying source messages produced, appended in order. The worker publishes Closed before
// Marks: a mark counts closed records emitted before it. Adjustments and DeadLetters are independent of both.
type Output struct {
	Closed      []events.PeriodRecord // revision 0, mode total, in record order per Advance
	Adjustments []events.PeriodRecord // revisions ≥ 1, in record order per source message
	Marks       []events.PartitionMark
	DeadLetters []events.DeadLetter
	// Links are trace contexts of events folded into the periods closed (Closed), for span links only: per
	// (product, contract, period) the first MaxGroupLinks distinct ones in stream order. Each close appends
	// them rank by rank (the first of every period, then the second, …; periods in record order), so that a
	// prefix covers as many periods as it can.
	Links []TraceLink
}

// Reset empties o, keeping its capacity.
func (o *Output) Reset() {
	clear(o.Closed)
	clear(o.Adjustments)
	clear(o.Marks)
	clear(o.DeadLetters)
	clear(o.Links)
	o.Closed, o.Adjustments, o.Marks, o.DeadLetters = o.Closed[:0], o.Adjustments[:0], o.Marks[:0], o.DeadLetters[:0]
	o.Links = o.Links[:0]
}

// Len is the number of items in o (Links are not items).
func (o *Output) Len() int {
	return len(o.Closed) + len(o.Adjustments) + len(o.Marks) + len(o.DeadLetters)
}
