package events

import (
	"errors"
	"strconv"
	"time"
)

// DecodeEvent decodes one CloudEvent in structured JSON mode. It checks the
// JSON shape only (types, presence of data and data.quantity, the time
// format); the catalog rules are Catalog.Validate's. Attribute names are
// matched exactly (CloudEvents names are lowercase), unknown attributes are
// ignored, a repeated attribute keeps its last value, and null reads as
// absent. Time is returned in UTC.
func DecodeEvent(b []byte) (Event, *Rejection) { return decodeEvent(b) }

// DecodeEventString is DecodeEvent for an event held in a string, with the
// same results. The event's strings are substrings of s wherever the JSON
// needs no unescaping, so decoding allocates little, and the event keeps s
// in memory: use it for short-lived events (ingest decodes a request body
// copied once into a string).
func DecodeEventString(s string) (Event, *Rejection) { return decodeEvent(s) }

func decodeEvent[T text](b T) (Event, *Rejection) {
	if len(b) > MaxEventBytes {
		return Event{}, reject(ReasonTooLarge, "", "event is %d bytes, the limit is %d", len(b), MaxEventBytes)
	}
	d := eventDecoder[T]{s: scanner[T]{b: b}}
	null, err := d.s.object(d.field)
	if err == nil && null {
		err = errNotObject
	}
	if err == nil {
		err = d.s.end()
	}
	if err != nil {
		return Event{}, d.rejection(err)
	}
	if rej := d.finish(); rej != nil {
		return Event{}, rej
	}
	return d.e, nil
}

// decodeAt decodes the event at s.i in place and steps over it. ok is false
// when the JSON there is not a well-formed object with well-formed fields
// (s.i is then anywhere); otherwise e and rej are what decodeEvent gives for
// the object's bytes, as long as they are at most MaxEventBytes.
func decodeAt[T text](s *scanner[T]) (e Event, rej *Rejection, ok bool) {
	d := eventDecoder[T]{s: *s}
	null, err := d.s.object(d.field)
	if err != nil || null {
		return Event{}, nil, false
	}
	s.i = d.s.i
	if rej := d.finish(); rej != nil {
		return Event{}, rej, true
	}
	return d.e, nil, true
}

// eventDecoder fills an Event from a scanner; field errors are recorded as
// fieldError so the rejection can name the field. The Event is held by value
// so that it stays on the stack.
type eventDecoder[T text] struct {
	s       scanner[T]
	e       Event
	hasData bool
	hasQty  bool
	rawTime T
}

type fieldError struct {
	reason Reason
	field  string
	msg    string
}

func (f *fieldError) Error() string { return f.field + ": " + f.msg }

func (d *eventDecoder[T]) rejection(err error) *Rejection {
	var fe *fieldError
	if errors.As(err, &fe) {
		return &Rejection{Reason: fe.reason, Field: fe.field, Message: fe.msg}
	}
	if errors.Is(err, errNotObject) {
		return reject(ReasonBadJSON, "", "an event must be a JSON object")
	}
	return reject(ReasonBadJSON, "", "%v", err)
}

// stringField reads a string attribute into dst.
func (d *eventDecoder[T]) stringField(dst *string, name string) error {
	v, err := d.s.str()
	switch {
	case errors.Is(err, errNotString):
		return &fieldError{ReasonBadJSON, name, name + " must be a JSON string"}
	case errors.Is(err, errBadText):
		return &fieldError{ReasonBadJSON, name, name + " is " + err.Error()}
	}
	*dst = v
	return err
}

func (d *eventDecoder[T]) field(key T) error {
	e := &d.e
	switch string(key) {
	case "specversion":
		return d.specVersion()
	case "id":
		return d.stringField(&e.ID, "id")
	case "source":
		return d.stringField(&e.Source, "source")
	case "type":
		return d.typeField()
	case "subject":
		return d.stringField(&e.Subject, "subject")
	case "time":
		raw, err := d.s.raw()
		d.rawTime = raw
		return err
	case "datacontenttype":
		return d.stringField(&e.DataContentType, "datacontenttype")
	case "traceparent":
		return d.stringField(&e.TraceParent, "traceparent")
	case "tracestate":
		return d.stringField(&e.TraceState, "tracestate")
	case "data":
		return d.data()
	}
	return d.s.skip(0)
}

// specVersion and typeField avoid allocating for the common values.
func (d *eventDecoder[T]) specVersion() error {
	if d.s.literal(`"1.0"`) {
		d.e.SpecVersion = SpecVersion
		return nil
	}
	return d.stringField(&d.e.SpecVersion, "specversion")
}

func (d *eventDecoder[T]) typeField() error {
	if d.s.literal(`"` + EventType + `"`) {
		d.e.Type = EventType
		return nil
	}
	return d.stringField(&d.e.Type, "type")
}

func (d *eventDecoder[T]) data() error {
	d.e.Data = Usage{}
	d.hasQty = false
	null, err := d.s.object(d.usageField)
	if errors.Is(err, errNotObject) {
		if _, err := d.s.raw(); err != nil {
			return err
		}
		return &fieldError{ReasonBadJSON, "data", "data must be a JSON object"}
	}
	d.hasData = !null
	return err
}

func (d *eventDecoder[T]) usageField(key T) error {
	u := &d.e.Data
	switch string(key) {
	case "product":
		return d.stringField(&u.Product, "data.product")
	case "item":
		return d.stringField(&u.Item, "data.item")
	case "quantity":
		return d.quantity()
	case "amount":
		return d.amount()
	case "tier":
		return d.tier()
	case "marketplace":
		return d.stringField(&u.Marketplace, "data.marketplace")
	case "contract":
		return d.stringField(&u.Contract, "data.contract")
	case "attributes":
		return d.attributes()
	case "cumulative":
		return d.cumulative()
	}
	return d.s.skip(0)
}

// cumulative reads data.cumulative: {"series": string, "start": RFC 3339 time}; null reads as absent.
func (d *eventDecoder[T]) cumulative() error {
	var c Cumulative
	var rawStart T
	null, err := d.s.object(func(key T) error {
		switch string(key) {
		case "series":
			return d.stringField(&c.Series, "data.cumulative.series")
		case "start":
			raw, err := d.s.raw()
			rawStart = raw
			return err
		}
		return d.s.skip(0)
	})
	if errors.Is(err, errNotObject) {
		if _, err := d.s.raw(); err != nil {
			return err
		}
		return &fieldError{ReasonBadJSON, "data.cumulative", "data.cumulative must be a JSON object"}
	}
	if err != nil || null {
		d.e.Data.Cumulative = nil
		return err
	}
	start, rej := decodeTime(rawStart)
	if rej != nil {
		return &fieldError{ReasonBadTime, "data.cumulative.start", rej.Message}
	}
	c.Start = start
	d.e.Data.Cumulative = &c
	return nil
}

func (d *eventDecoder[T]) quantity() error {
	raw, err := d.s.raw()
	if err != nil {
		return err
	}
	d.hasQty = string(raw) != "null"
	if !d.hasQty {
		return nil
	}
	q, err := decimalFromJSON(raw)
	if err != nil {
		return &fieldError{ReasonBadQuantity, "data.quantity", err.Error()}
	}
	d.e.Data.Quantity = q
	return nil
}

func (d *eventDecoder[T]) amount() error {
	raw, err := d.s.raw()
	if err != nil || string(raw) == "null" {
		d.e.Data.Amount = nil
		return err
	}
	a, err := decimalFromJSON(raw)
	if err != nil {
		return &fieldError{ReasonBadAmount, "data.amount", err.Error()}
	}
	d.e.Data.Amount = &a
	return nil
}

// tier accepts a JSON integer, or an integral number such as 2.0.
func (d *eventDecoder[T]) tier() error {
	raw, err := d.s.raw()
	if err != nil || string(raw) == "null" {
		d.e.Data.Tier = 0
		return err
	}
	v, err := ParseDecimal(string(raw))
	if err != nil || raw[0] == '"' || v.Scale() != 0 {
		return &fieldError{ReasonBadTier, "data.tier", "tier must be a JSON integer"}
	}
	n, err := strconv.ParseInt(v.String(), 10, 64)
	if err != nil || n < 0 || n > maxTier {
		return &fieldError{ReasonBadTier, "data.tier", "tier must be between 0 and " + strconv.Itoa(maxTier)}
	}
	d.e.Data.Tier = int(n)
	return nil
}

const maxTier = 1<<31 - 1

func badAttributes(field string) error {
	return &fieldError{ReasonBadAttribute, field, "attributes must be an object of strings"}
}

func (d *eventDecoder[T]) attributes() error {
	var attrs map[string]string // made at the first attribute
	null, err := d.s.object(func(key T) error {
		v, err := d.s.str()
		if errors.Is(err, errNotString) || errors.Is(err, errBadText) {
			return badAttributes("data.attributes." + string(key))
		}
		if attrs == nil {
			attrs = map[string]string{}
		}
		attrs[string(key)] = v
		return err
	})
	switch {
	case errors.Is(err, errNotObject):
		if _, err := d.s.raw(); err != nil {
			return err
		}
		return badAttributes("data.attributes")
	case errors.Is(err, errBadText):
		return &fieldError{ReasonBadAttribute, "data.attributes", "an attribute name is " + err.Error()}
	case err != nil:
		return err
	}
	d.e.Data.Attributes = nil
	if !null && len(attrs) > 0 {
		d.e.Data.Attributes = attrs
	}
	return nil
}

// finish checks what can only be checked once the whole object is read.
func (d *eventDecoder[T]) finish() *Rejection {
	t, rej := decodeTime(d.rawTime)
	if rej != nil {
		return rej
	}
	d.e.Time = t
	if !d.hasData {
		return reject(ReasonMissingField, "data", "data is required")
	}
	if !d.hasQty {
		return reject(ReasonMissingField, "data.quantity", "data.quantity is required")
	}
	return nil
}

func decodeTime[T text](raw T) (time.Time, *Rejection) {
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, reject(ReasonMissingField, "time", "time is required")
	}
	s := scanner[T]{b: raw}
	v, err := s.str()
	if err != nil {
		return time.Time{}, reject(ReasonBadTime, "time", "time must be an RFC 3339 string")
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, reject(ReasonBadTime, "time", "time %q is not RFC 3339 with a zone", clip(v))
	}
	return t.UTC(), nil
}
