package events

import (
	"slices"
	"strings"
	"time"
)

// EventType is the recommended CloudEvents type of a usage event. Any
// non-empty type is accepted.
const EventType = "io.usagepipe.usage.v1"

// SpecVersion is the only CloudEvents version accepted.
const SpecVersion = "1.0"

// MaxEventBytes is the largest encoded event ingest accepts (too_large beyond).
const MaxEventBytes = 64 << 10

// MaxAttributeBytes bounds id, source, type and subject (too_large beyond).
const MaxAttributeBytes = 256

// Event is one usage event: a CloudEvents 1.0 event in structured JSON mode
// whose data is a Usage. DecodeEvent stores Time in UTC.
type Event struct {
	SpecVersion     string    `json:"specversion"`
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	Type            string    `json:"type"`
	Subject         string    `json:"subject"` // the subscription: Connect asset id AS-… or the vendor's external id
	Time            time.Time `json:"time"`    // RFC 3339, sub-second kept
	DataContentType string    `json:"datacontenttype,omitempty"`
	TraceParent     string    `json:"traceparent,omitempty"` // CloudEvents distributed-tracing extension
	TraceState      string    `json:"tracestate,omitempty"`
	Data            Usage     `json:"data"`
}

// Usage is the data of a usage event.
type Usage struct {
	Product     string            `json:"product"` // PRD-…
	Item        string            `json:"item"`    // item MPN
	Quantity    Decimal           `json:"quantity"`
	Amount      *Decimal          `json:"amount,omitempty"` // CR/PR (required), TR (optional)
	Tier        int               `json:"tier,omitempty"`   // TR schema
	Marketplace string            `json:"marketplace,omitempty"`
	Contract    string            `json:"contract,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
	// Cumulative, when set, says that Quantity is not usage of its own but the running total of a counter
	// series since Cumulative.Start (an OTLP cumulative sum's point): the aggregator counts the difference
	// from the series' previous point (internal/aggregate, "Cumulative series"). Only OTLP ingest sets it;
	// POST /v1/events rejects events that carry it.
	Cumulative *Cumulative `json:"cumulative,omitempty"`
}

// Cumulative identifies the counter series a cumulative quantity belongs to.
type Cumulative struct {
	// Series is the series' identity, unique within the event's source: a hash of its OTLP identity
	// (resource, scope, metric name, point attributes and start time), so a producer restart, which starts
	// the series again at a new start time, is a new series.
	Series string    `json:"series"`
	Start  time.Time `json:"start"` // when the running total started counting from zero
}

// Key is the idempotency key of an event: CloudEvents (source, id).
type Key struct{ Source, ID string }

// Key returns the event's idempotency key.
func (e *Event) Key() Key { return Key{Source: e.Source, ID: e.ID} }

// Compare orders keys by source, then id: the order of events in a packet.
func (k Key) Compare(o Key) int {
	if c := strings.Compare(k.Source, o.Source); c != 0 {
		return c
	}
	return strings.Compare(k.ID, o.ID)
}

// SortByKey sorts events by Key, the canonical order within a packet.
func SortByKey(evs []Event) {
	slices.SortFunc(evs, func(a, b Event) int { return a.Key().Compare(b.Key()) })
}
