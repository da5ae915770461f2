package pipeline

import (
	"strconv"
	"time"

	"github.com/usagepipe/usagepipe/internal/eventgen"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// encoder writes sends as a producer posts them: each send becomes an events.Event and a request body is
// eventgen.AppendBatch of them (the canonical CloudEvents encoding, without reflection). What a subscription
// contributes (source, subject, product, labels) is made once per run: the load generator shares the machine
// with the system it measures, so a request body must cost it little. Safe for use by one goroutine.
type encoder struct {
	idPrefix string              // pb-<seed>-
	subs     []events.Event      // subscription index → the event's fixed fields
	labels   []map[string]string // subscription index → its attributes (shared, never written)
	evs      []events.Event      // reused between bodies
}

var (
	sources = []string{"eu-1", "eu-2", "us-1", "us-2", "us-3", "ap-1", "ap-2", "sa-1"}
	regions = []string{"eu-west-1", "us-east-1", "ap-south-1", "sa-east-1"}
)

func newEncoder(c Config) *encoder {
	e := &encoder{idPrefix: "pb-" + strconv.FormatUint(c.Seed, 10) + "-"}
	for s := range c.Subscriptions {
		e.subs = append(e.subs, events.Event{SpecVersion: events.SpecVersion, Type: events.EventType,
			Source: "https://metering.example.com/" + sources[s%len(sources)], Subject: subscriptionID(s),
			Data: events.Usage{Product: productID(s % c.Products)}})
		e.labels = append(e.labels, map[string]string{"region": regions[s%len(regions)]})
	}
	return e
}

// body appends the JSON array of sends to b.
func (e *encoder) body(b []byte, sends []send) []byte {
	e.evs = e.evs[:0]
	for i := range sends {
		e.evs = append(e.evs, e.event(&sends[i]))
	}
	return eventgen.AppendBatch(b, e.evs)
}

// event is the CloudEvent of a send: id pb-<seed>-<seq>, its subscription's fields, its time in
// milliseconds, its item and its quantity (whole units for integer items, else hundredths).
func (e *encoder) event(s *send) events.Event {
	ev := e.subs[s.sub]
	ev.ID = e.idPrefix + strconv.FormatUint(s.seq, 10)
	ev.Time = time.Unix(0, s.time).UTC()
	ev.Data.Item = items[s.item].mpn
	ev.Data.Attributes = e.labels[s.sub]
	if items[s.item].integer {
		ev.Data.Quantity = events.DecimalFromInt(s.cents / 100)
	} else {
		ev.Data.Quantity = events.DecimalFromFixed(s.cents, 2)
	}
	return ev
}
