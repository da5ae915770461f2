package aggregator

import (
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregate"
	"github.com/usagepipe/usagepipe/internal/bus"
)

// pending is the uncommitted part of a partition: source messages From..To, their events and the fold's output.
type pending struct {
	from, to uint64
	messages int
	events   int
	started  time.Time // wall clock of the first message
	firstAt  time.Time // stream time of the first message
	out      aggregate.Output
	traced   []bus.Header // headers of the first source messages that carry a trace context (maxLinks)
}

// add records source message m (received at now), keeping its headers for a span link if it carries a trace
// context and there is room: the context is only parsed when the commit span starts.
func (pd *pending) add(m bus.Msg, now time.Time) {
	if pd.messages == 0 {
		pd.from, pd.started, pd.firstAt = m.Seq, now, m.Time
	}
	pd.to = m.Seq
	pd.messages++
	if len(pd.traced) < maxLinks && m.Header.Get(headerTraceParent) != "" {
		pd.traced = append(pd.traced, m.Header)
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
	clear(pd.traced)
	*pd = pending{out: pd.out, traced: pd.traced[:0]}
}
