package aggregator

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/usagepipe/usagepipe/internal/aggregate"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// Dead-letter vocabulary of the aggregator (its dead letters travel on usage.agg.dlq.<p>).
const (
	deadLetterStage   = "aggregator"
	kindDeadLetter    = "dead_letter"
	reasonUnknownKind = events.ReasonUnknownKind
)

// decoded is what a source message is to the fold: an event packet (packet, evs), a tick, or a message that
// becomes a dead letter (reason and message).
type decoded struct {
	packet bool
	evs    *[]events.Event // from eventSlices; the runner returns it once applied
	reason events.Reason
	msg    string
}

// decode reads a source message for the fold. It runs in the feed, ahead of the runner.
func decode(m bus.Msg) decoded {
	switch kind := m.Header.Get(events.HeaderKind); kind {
	case events.KindEvents:
		evs := getEvents(bytes.Count(m.Data, newline) + 1)
		var err error
		if *evs, err = decodePacket((*evs)[:0], m.Data); err != nil {
			releaseEvents(evs)
			return decoded{reason: events.ReasonBadJSON, msg: err.Error()}
		}
		return decoded{packet: true, evs: evs}
	case events.KindTick:
		return decoded{}
	default:
		return decoded{reason: reasonUnknownKind, msg: fmt.Sprintf("%s %q", events.HeaderKind, kind)}
	}
}

// decodePacket is events.DecodePacket (same events, same errors) appending to dst, through one string copy of
// the packet: events.DecodeEventString makes the events' strings substrings of it instead of allocating one per
// field. The fold copies what it keeps of an event, so the packet is garbage once applied.
func decodePacket(dst []events.Event, data []byte) ([]events.Event, error) {
	s := string(data)
	for n := 1; len(s) > 0; n++ {
		line := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		e, rej := events.DecodeEventString(line)
		if rej != nil {
			return dst, fmt.Errorf("events: decode packet line %d: %w", n, rej)
		}
		dst = append(dst, e)
	}
	return dst, nil
}

var newline = []byte{'\n'}

// freeEvents recycles the decoded packets' event slices between the feed and the runners (a sync.Pool would
// drop them at every GC, which a worker catching up runs often).
var freeEvents = make(chan *[]events.Event, 2*inboxSize)

// getEvents returns an empty event slice with room for n events.
func getEvents(n int) *[]events.Event {
	var evs *[]events.Event
	select {
	case evs = <-freeEvents:
	default:
		evs = new([]events.Event)
	}
	if cap(*evs) < n {
		*evs = make([]events.Event, 0, max(n, 64))
	}
	return evs
}

// releaseEvents gives back a slice from getEvents once nothing refers to its events.
func releaseEvents(evs *[]events.Event) {
	clear(*evs)
	*evs = (*evs)[:0]
	select {
	case freeEvents <- evs:
	default:
	}
}

// apply folds one source message into r.state, appending its output to out, and returns the number of events
// it carried. The stream timestamp m.Time is the fold's clock. A message that is not a decodable packet or a
// tick still advances the clock and becomes a dead letter with its reason: nothing stops the partition.
func (r *runner) apply(ctx context.Context, m bus.Msg, d decoded, out *aggregate.Output) int {
	n := 0
	switch {
	case d.packet:
		r.state.Apply(m.Seq, m.Time, *d.evs, out)
		n = len(*d.evs)
		releaseEvents(d.evs)
	default:
		r.state.Advance(m.Seq, m.Time, out)
		if d.reason != "" {
			out.DeadLetters = append(out.DeadLetters, deadLetter(m, d.reason, d.msg))
		}
	}
	r.applied, r.lastApplied = m.Seq, m.Time
	r.noteApplied(m.Seq, m.Time)
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
