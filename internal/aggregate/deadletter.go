package aggregate

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

func reject(reason events.Reason, field, format string, args ...any) *events.Rejection {
	return &events.Rejection{Reason: reason, Field: field, Message: fmt.Sprintf(format, args...)}
}

// deadLetter reports an event that cannot be applied, with the event's JSON as payload. Its At is the stream
// time, so dead letters are as deterministic as the rest of the output.
func (s *State) deadLetter(seq uint64, e *events.Event, r *events.Rejection, out *Output) {
	dl := events.DeadLetter{
		Stage: Stage, Reason: r.Reason, Message: r.Error(), Subject: s.subject, Seq: seq,
		At: time.Unix(0, s.clock).UTC(),
	}
	payload, err := json.Marshal(e)
	if err != nil { // only a time outside years 0..9999, which no decoded event has
		payload = []byte(fmt.Sprintf("%+v", *e))
	}
	dl.SetPayload(payload)
	out.DeadLetters = append(out.DeadLetters, dl)
}
