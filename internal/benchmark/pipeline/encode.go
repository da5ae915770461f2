package pipeline

import (
	"strconv"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// encoder writes sends as CloudEvents JSON without reflection, from strings formatted once per run: the
// load generator shares the machine with the system it measures, so a request body costs it little.
type encoder struct {
	idPrefix string   // `{"specversion":"1.0","id":"pb-<seed>-`
	subs     []string // subscription index → `","source":"…","type":"…","subject":"AS-…","time":"`
	products []string // subscription index → `","data":{"product":"PRD-…","item":"`
	regions  []string // subscription index → `,"attributes":{"region":"…"}}}`
}

var (
	sources = []string{"eu-1", "eu-2", "us-1", "us-2", "us-3", "ap-1", "ap-2", "sa-1"}
	regions = []string{"eu-west-1", "us-east-1", "ap-south-1", "sa-east-1"}
)

func newEncoder(c Config) *encoder {
	e := &encoder{idPrefix: `{"specversion":"1.0","id":"pb-` + strconv.FormatUint(c.Seed, 10) + "-"}
	for s := range c.Subscriptions {
		e.subs = append(e.subs, `","source":"https://metering.example.com/`+sources[s%len(sources)]+
			`","type":"`+events.EventType+`","subject":"`+subscriptionID(s, c.Products)+`","time":"`)
		e.products = append(e.products, `","data":{"product":"`+productID(s%c.Products)+`","item":"`)
		e.regions = append(e.regions, `,"attributes":{"region":"`+regions[s%len(regions)]+`"}}}`)
	}
	return e
}

// body appends the JSON array of sends to b.
func (e *encoder) body(b []byte, sends []send) []byte {
	b = append(b, '[')
	for i := range sends {
		if i > 0 {
			b = append(b, ',')
		}
		b = e.event(b, &sends[i])
	}
	return append(b, ']')
}

// event appends one send as a CloudEvent.
func (e *encoder) event(b []byte, s *send) []byte {
	b = append(b, e.idPrefix...)
	b = strconv.AppendUint(b, s.seq, 10)
	b = append(b, e.subs[s.sub]...)
	b = time.Unix(0, s.time).UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	b = append(b, e.products[s.sub]...)
	b = append(b, items[s.item].mpn...)
	b = append(b, `","quantity":"`...)
	b = appendCents(b, s.cents, items[s.item].integer)
	b = append(b, '"')
	return append(b, e.regions[s.sub]...)
}

// appendCents writes a quantity in hundredths: whole units for integer items, else with two decimals.
func appendCents(b []byte, cents int64, integer bool) []byte {
	b = strconv.AppendInt(b, cents/100, 10)
	if integer {
		return b
	}
	frac := cents % 100
	b = append(b, '.', byte('0'+frac/10), byte('0'+frac%10))
	return b
}
