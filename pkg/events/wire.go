package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// HeaderKind is the NATS header naming a message's kind (one of the Kind* values).
const HeaderKind = "Usagepipe-Kind"

// HeaderReplay names, on a message published by a replay, the dead letter it replays (its id).
const HeaderReplay = "Usagepipe-Replay"

// Stages: who wrote a dead letter (DeadLetter.Stage, and the <stage> of usage.dlq.<stage>.<reason>).
const (
	StageIngest     = "ingest"     // a rejection kept by ingest (--keep-rejected): the event's bytes
	StageAggregator = "aggregator" // what the fold could not apply: the event, or the message
	StageSubmitter  = "submitter"  // a record Connect refused or no workbook can hold: the PeriodRecord
)

// Message kinds carried in HeaderKind.
const (
	KindEvents      = "events"      // USAGE_EVENTS: a packet (EncodePacket)
	KindTick        = "tick"        // USAGE_EVENTS: an aggregator clock tick, empty body
	KindProgress    = "progress"    // USAGE_AGG: progress of a partition's commit
	KindRecords     = "records"     // USAGE_AGG: a closed PeriodRecord
	KindAdjustments = "adjustments" // USAGE_AGG: an adjustment PeriodRecord
	KindMark        = "mark"        // USAGE_AGG: a PartitionMark
)

// Status is the outcome of one event in an ingest request.
type Status string

// Statuses.
const (
	StatusAccepted  Status = "accepted"
	StatusDuplicate Status = "duplicate"
	StatusRejected  Status = "rejected"
)

// Result is the outcome of the event at Index of an ingest request.
type Result struct {
	Index   int    `json:"index"`
	ID      string `json:"id,omitempty"`
	Source  string `json:"source,omitempty"`
	Status  Status `json:"status"`
	Reason  Reason `json:"reason,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message,omitempty"`
}

// IngestResponse is the body of an ingest reply: counts and one Result per event.
type IngestResponse struct {
	Accepted   int      `json:"accepted"`
	Duplicates int      `json:"duplicates"`
	Rejected   int      `json:"rejected"`
	Results    []Result `json:"results"`
}

// EncodePacket encodes events as one compact JSON event per line, each line
// ending in '\n', in the given order (ingest sorts them by Key first).
func EncodePacket(evs []Event) []byte {
	return AppendPacket(make([]byte, 0, len(evs)*packetLineBytes), evs)
}

// packetLineBytes is about the size of a realistic event's packet line.
const packetLineBytes = 384

// AppendPacket appends EncodePacket(evs) to b and returns the extended
// buffer, so a caller can reuse one buffer for many packets.
func AppendPacket(b []byte, evs []Event) []byte {
	for i := range evs {
		var err error
		if b, err = appendEvent(b, &evs[i]); err != nil {
			// Only a time outside years 0..9999 fails; DecodeEvent never yields one.
			panic(fmt.Sprintf("events: EncodePacket: event %d: %v", i, err))
		}
		b = append(b, '\n')
	}
	return b
}

// PacketKeyBytes is how an event key is written in a packet line (EncodePacket): ,"id":"…","source":"…" with
// the line's JSON escaping, so that a reader can find an event's lines in stored packets without decoding
// every line (and then decodes the lines found, to be sure).
func PacketKeyBytes(k Key) []byte {
	b := appendJSONString([]byte(`,"id":`), k.ID)
	return appendJSONString(append(b, `,"source":`...), k.Source)
}

// PacketSubjectBytes is how an event's subject is written in a packet line: ,"subject":"…".
func PacketSubjectBytes(subject string) []byte {
	return appendJSONString([]byte(`,"subject":`), subject)
}

// DecodePacket decodes a packet written by EncodePacket.
func DecodePacket(b []byte) ([]Event, error) {
	evs := make([]Event, 0, bytes.Count(b, []byte{'\n'})+1)
	for n := 1; len(b) > 0; n++ {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		e, rej := DecodeEvent(line)
		if rej != nil {
			return nil, fmt.Errorf("events: decode packet line %d: %w", n, rej)
		}
		evs = append(evs, e)
	}
	return evs, nil
}

// RecordKind distinguishes a period's closed value from later adjustments.
type RecordKind string

// Record kinds.
const (
	RecordClosed     RecordKind = "closed"
	RecordAdjustment RecordKind = "adjustment"
)

// ValueMode says how to read PeriodRecord.Quantity.
type ValueMode string

// Value modes.
const (
	ModeTotal   ValueMode = "total"   // closed records: the period's value
	ModeDelta   ValueMode = "delta"   // sum/count/unique_count adjustments: add to the reported value
	ModeReplace ValueMode = "replace" // max/min/last adjustments: the new value (Previous: the old one)
)

// PeriodRecord is the aggregator's output for one (product, contract,
// subscription, item, tier, period): revision 0 is the closed value, revision
// n ≥ 1 the nth adjustment from events that arrived after the close.
type PeriodRecord struct {
	Kind         RecordKind  `json:"kind"`
	Product      string      `json:"product"`
	Contract     string      `json:"contract"`
	Marketplace  string      `json:"marketplace,omitempty"`
	Subscription string      `json:"subscription"`
	Item         string      `json:"item"`
	Tier         int         `json:"tier,omitempty"`
	PeriodStart  time.Time   `json:"period_start"`
	PeriodEnd    time.Time   `json:"period_end"`
	Revision     int         `json:"revision"`
	Aggregation  Aggregation `json:"aggregation"`
	Mode         ValueMode   `json:"mode"`
	Quantity     Decimal     `json:"quantity"`           // total, delta or new value per Mode
	Previous     *Decimal    `json:"previous,omitempty"` // replace mode: the value replaced
	Amount       *Decimal    `json:"amount,omitempty"`   // sum of event amounts (delta for adjustments)
	Events       int64       `json:"events"`             // contributing events (new ones, for adjustments)
	Digest       string      `json:"digest"`             // Digest.String of the contributing event keys
	Partition    int         `json:"partition"`
	SourceSeq    uint64      `json:"source_seq"` // stream sequence of the last contributing packet
	// Resubmits is set on a record a replay published again: the id of the dead letter it comes from. It is
	// part of the record's id, so the resubmission is a record of its own in Connect.
	Resubmits string `json:"resubmits,omitempty"`
}

// MarshalJSON writes the times in UTC.
func (r PeriodRecord) MarshalJSON() ([]byte, error) {
	type plain PeriodRecord
	p := plain(r)
	p.PeriodStart, p.PeriodEnd = p.PeriodStart.UTC(), p.PeriodEnd.UTC()
	return json.Marshal(p)
}

// PartitionMark says a partition has committed every closed record of
// (product, contract, period): Records of them.
type PartitionMark struct {
	Product     string    `json:"product"`
	Contract    string    `json:"contract"`
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	Partition   int       `json:"partition"`
	Partitions  int       `json:"partitions"`
	Records     int       `json:"records"`
}

// MarshalJSON writes the times in UTC.
func (m PartitionMark) MarshalJSON() ([]byte, error) {
	type plain PartitionMark
	p := plain(m)
	p.PeriodStart, p.PeriodEnd = p.PeriodStart.UTC(), p.PeriodEnd.UTC()
	return json.Marshal(p)
}

// DeadLetter is a message a stage could not process, published to
// usage.dlq.<stage>.<reason>. Payload holds the original message when it is
// compact JSON; otherwise PayloadBytes holds it (base64 in JSON), byte for byte. Use
// SetPayload and OriginalPayload rather than the fields.
type DeadLetter struct {
	Stage        string          `json:"stage"`
	Reason       Reason          `json:"reason"`
	Message      string          `json:"message"`
	Subject      string          `json:"subject"`
	Seq          uint64          `json:"seq"`
	Payload      json.RawMessage `json:"payload,omitempty"`
	PayloadBytes []byte          `json:"payload_bytes,omitempty"`
	At           time.Time       `json:"at"`
}

// SetPayload stores the original message in Payload when it is compact JSON (encoding the dead letter keeps
// every byte of it), else in PayloadBytes.
func (d *DeadLetter) SetPayload(b []byte) {
	d.Payload, d.PayloadBytes = nil, nil
	var compact bytes.Buffer
	if json.Compact(&compact, b) == nil && bytes.Equal(compact.Bytes(), b) {
		d.Payload = json.RawMessage(append([]byte(nil), b...))
		return
	}
	d.PayloadBytes = append([]byte(nil), b...)
}

// OriginalPayload returns the original message.
func (d *DeadLetter) OriginalPayload() []byte {
	if d.Payload != nil {
		return d.Payload
	}
	return d.PayloadBytes
}

// MarshalJSON writes At in UTC.
func (d DeadLetter) MarshalJSON() ([]byte, error) {
	type plain DeadLetter
	p := plain(d)
	p.At = p.At.UTC()
	return json.Marshal(p)
}
