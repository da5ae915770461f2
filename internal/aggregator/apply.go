package aggregator

import (
	"context"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/aggregate"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// Dead-letter vocabulary of the aggregator (its dead letters travel on usage.agg.dlq.<p>).
const (
	deadLetterStage   = "aggregator"
	kindDeadLetter    = "dead_letter"
	reasonUnknownKind = events.Reason("unknown_kind")
)

// apply folds one source message into r.state, appending its output to out, and returns the number of events
// it carried. The stream timestamp m.Time is the fold's clock. A message that is not a decodable packet or a
// tick still advances the clock and becomes a dead letter with its reason: nothing stops the partition.
func (r *runner) apply(ctx context.Context, m bus.Msg, out *aggregate.Output) int {
	n := 0
	switch kind := m.Header.Get(events.HeaderKind); kind {
	case events.KindEvents:
		evs, err := events.DecodePacket(m.Data)
		if err != nil {
			r.state.Advance(m.Seq, m.Time, out)
			out.DeadLetters = append(out.DeadLetters, deadLetter(m, events.ReasonBadJSON, err.Error()))
			break
		}
		r.state.Apply(m.Seq, m.Time, evs, out)
		n = len(evs)
	case events.KindTick:
		r.state.Advance(m.Seq, m.Time, out)
	default:
		r.state.Advance(m.Seq, m.Time, out)
		out.DeadLetters = append(out.DeadLetters, deadLetter(m, reasonUnknownKind, fmt.Sprintf("%s %q", events.HeaderKind, kind)))
	}
	r.applied, r.lastApplied = m.Seq, m.Time
	r.sinceSnap += n
	r.ins.applied.Add(ctx, int64(n))
	return n
}

// deadLetter wraps an unprocessable source message. Its time is the message's stream time, so the dead letter
// is as deterministic as the rest of the output.
func deadLetter(m bus.Msg, reason events.Reason, msg string) events.DeadLetter {
	d := events.DeadLetter{Stage: deadLetterStage, Reason: reason, Message: msg, Subject: m.Subject, Seq: m.Seq, At: m.Time}
	d.SetPayload(m.Data)
	return d
}
