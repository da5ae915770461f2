package ingest

import (
	"fmt"
	"sync"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// batch is one request's events on their way to the response: a result per event, and the valid events to
// publish: events[i] is at request position slots[i], its key keys[i]; traced[i] says whether it carries the
// request's trace context (tp, ts) rather than its own.
type batch struct {
	results  []events.Result
	events   []events.Event
	slots    []int
	keys     []eventKey
	traced   []bool
	tp, ts   string           // the request span's trace context, written into events without their own
	producer int              // the request's producer (keyring.identify)
	first    map[eventKey]int // index in events of each key's first valid event, to spot repeats
	sorted   []events.Event   // scratch of buildPackets
	sslots   []int            // scratch of buildPackets
	skeys    []eventKey       // scratch of buildPackets
	seen     []bool           // scratch of dropRemembered
	data     []byte           // the packets' bytes (buildPackets): reused only once they are acknowledged
	ends     []int            // scratch of buildPackets: where each sorted event's line ends in data
	sizes    []int            // scratch of buildPackets: the same ends, as packet sizing counts them
	scratch  []byte           // scratch of msgID
	kept     []keptRejection  // rejections to keep as dead letters (Config.KeepRejected)
}

// batches recycles batches: a request's slices are large, and allocating them per request dominates GC.
var batches = sync.Pool{New: func() any { return &batch{first: map[eventKey]int{}} }}

// newBatch returns an empty batch.
func newBatch() *batch {
	b := batches.Get().(*batch)
	b.results, b.events, b.slots, b.keys, b.traced = b.results[:0], b.events[:0], b.slots[:0], b.keys[:0], b.traced[:0]
	b.tp, b.ts, b.producer, b.kept = "", "", 0, b.kept[:0]
	return b
}

// release returns b to the pool, dropping every reference it holds (the events' strings share the request
// body). b must not be used afterwards.
func (b *batch) release() {
	clear(b.results)
	clear(b.events)
	clear(b.sorted)
	clear(b.first)
	clear(b.kept)
	b.tp, b.ts = "", ""
	batches.Put(b)
}

// validate checks a decoded event against the catalog at now and, when start is known, against the reporting
// start (events.Catalog.ClosedBeforeStart).
func (s *Service) validate(e *events.Event, now, start time.Time) *events.Rejection {
	if rej := s.catalog.Validate(e, now); rej != nil || start.IsZero() {
		return rej
	}
	return s.catalog.ClosedBeforeStart(e, start)
}

// add records the event at request position i, decoded as e or rejected with rej, and validates it (a
// curable rejection may be kept as a dead letter: keep), then checks that the
// request's producer may write its source (forbidden_source otherwise: such an event is neither stored nor
// remembered, so the source's own producer can still send its key).
// A valid event is kept for publishing, except a repeat of the key of an earlier valid event of the request:
// a duplicate when it has the same content (events.SameContent), rejected as conflict otherwise (the first
// is kept). A kept event without a traceparent gets b.tp and b.ts.
func (s *Service) add(b *batch, i int, e events.Event, rej *events.Rejection, now, start time.Time) {
	b.results = append(b.results, events.Result{Index: i})
	res := &b.results[len(b.results)-1]
	if rej == nil {
		rej = s.validate(&e, now, start)
		s.keep(b, i, &e, rej)
	}
	if rej == nil && !s.keys.writes(b.producer, e.Source) {
		rej = s.keys.forbidden(b.producer, e.Source)
	}
	res.ID, res.Source = e.ID, e.Source
	if rej != nil {
		res.Status, res.Reason, res.Field, res.Message = events.StatusRejected, rej.Reason, rej.Field, rej.Message
		return
	}
	k := s.hasher.key(e.Source, e.ID)
	if j, repeated := b.first[k]; repeated {
		res.Status, res.Message = events.StatusDuplicate, "repeats an earlier event of this request"
		if !events.SameContent(&b.events[j], &e) {
			res.Status, res.Reason, res.Field = events.StatusRejected, events.ReasonConflict, "id"
			res.Message = fmt.Sprintf("event %d of this request has the same source and id and other content; the first is kept", b.slots[j])
		}
		return
	}
	b.first[k] = len(b.events)
	traced := e.TraceParent == ""
	if traced {
		e.TraceParent, e.TraceState = b.tp, b.ts
	}
	b.events, b.slots, b.keys = append(b.events, e), append(b.slots, i), append(b.keys, k)
	b.traced = append(b.traced, traced)
}
