package aggregator

import (
	"context"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregate"
	"github.com/usagepipe/usagepipe/internal/bus"
	"go.opentelemetry.io/otel/trace"
)

// maxLinks bounds the span links of one commit (the SDK's default link limit).
const maxLinks = 128

// pending is the uncommitted part of a partition: source messages From..To, their events and the fold's output.
type pending struct {
	from, to uint64
	messages int
	events   int
	started  time.Time // wall clock of the first message
	out      aggregate.Output
	links    []trace.Link
}

// add records source message m (received at now) and links the trace context it carries.
func (pd *pending) add(m bus.Msg, now time.Time) {
	if pd.messages == 0 {
		pd.from, pd.started = m.Seq, now
	}
	pd.to = m.Seq
	pd.messages++
	if len(pd.links) < maxLinks && m.Header.Get("traceparent") != "" {
		sc := trace.SpanContextFromContext(bus.ExtractTrace(context.Background(), m.Header))
		if sc.IsValid() {
			pd.links = append(pd.links, trace.Link{SpanContext: sc})
		}
	}
}

// outputs is the number of output items pending.
func (pd *pending) outputs() int {
	o := &pd.out
	return len(o.Closed) + len(o.Adjustments) + len(o.Marks) + len(o.DeadLetters)
}

// reset empties pd for the next commit, keeping its buffers.
func (pd *pending) reset() {
	pd.out.Reset()
	*pd = pending{out: pd.out, links: pd.links[:0]}
}
