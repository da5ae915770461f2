package events

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MarshalJSON writes the event in canonical form: attributes in struct
// order, empty optional attributes omitted, time in UTC (RFC 3339 with
// nanoseconds, trailing zeros trimmed), decimals as strings, data attributes
// sorted by key. It matches encoding/json's output for the same fields with
// HTML escaping off.
func (e Event) MarshalJSON() ([]byte, error) {
	return appendEvent(make([]byte, 0, 320), &e)
}

// AppendJSON appends the event's canonical encoding ([Event.MarshalJSON]) to b.
func (e *Event) AppendJSON(b []byte) ([]byte, error) { return appendEvent(b, e) }

// UnmarshalJSON decodes with DecodeEvent; a rejection is returned as the error.
func (e *Event) UnmarshalJSON(b []byte) error {
	v, rej := DecodeEvent(b)
	if rej != nil {
		return rej
	}
	*e = v
	return nil
}

func appendEvent(b []byte, e *Event) ([]byte, error) {
	t := e.Time.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return nil, errors.New("events: event time year outside [0,9999]")
	}
	b = appendJSONString(append(b, `{"specversion":`...), e.SpecVersion)
	b = appendJSONString(append(b, `,"id":`...), e.ID)
	b = appendJSONString(append(b, `,"source":`...), e.Source)
	b = appendJSONString(append(b, `,"type":`...), e.Type)
	b = appendJSONString(append(b, `,"subject":`...), e.Subject)
	b = append(b, `,"time":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	b = appendOptional(b, `,"datacontenttype":`, e.DataContentType)
	b = appendOptional(b, `,"traceparent":`, e.TraceParent)
	b = appendOptional(b, `,"tracestate":`, e.TraceState)
	b = append(b, `,"data":`...)
	b = appendUsage(b, &e.Data)
	return append(b, '}'), nil
}

func appendUsage(b []byte, u *Usage) []byte {
	b = appendJSONString(append(b, `{"product":`...), u.Product)
	b = appendJSONString(append(b, `,"item":`...), u.Item)
	b = append(b, `,"quantity":"`...)
	b = append(u.Quantity.appendCanonical(b), '"')
	if u.Amount != nil {
		b = append(b, `,"amount":"`...)
		b = append(u.Amount.appendCanonical(b), '"')
	}
	if u.Tier != 0 {
		b = append(b, `,"tier":`...)
		b = strconv.AppendInt(b, int64(u.Tier), 10)
	}
	b = appendOptional(b, `,"marketplace":`, u.Marketplace)
	b = appendOptional(b, `,"contract":`, u.Contract)
	if len(u.Attributes) > 0 {
		b = appendAttributes(append(b, `,"attributes":`...), u.Attributes)
	}
	if c := u.Cumulative; c != nil {
		b = appendJSONString(append(b, `,"cumulative":{"series":`...), c.Series)
		b = append(b, `,"start":"`...)
		b = c.Start.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, `"}`...)
	}
	return append(b, '}')
}

// appendAttributes writes attrs as an object sorted by key.
func appendAttributes(b []byte, attrs map[string]string) []byte {
	type attr struct{ k, v string }
	var arr [16]attr // no allocation for small maps
	sorted := arr[:0]
	for k, v := range attrs {
		sorted = append(sorted, attr{k, v})
	}
	slices.SortFunc(sorted, func(x, y attr) int { return strings.Compare(x.k, y.k) })
	sep := byte('{')
	for _, a := range sorted {
		b = appendJSONString(append(b, sep), a.k)
		b = appendJSONString(append(b, ':'), a.v)
		sep = ','
	}
	return append(b, '}')
}

// appendOptional writes prefix (`,"name":`) and value, unless value is empty.
func appendOptional(b []byte, prefix, value string) []byte {
	if value == "" {
		return b
	}
	return appendJSONString(append(b, prefix...), value)
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does without HTML escaping:
// invalid UTF-8 becomes U+FFFD, U+2028 and U+2029 are escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	i := plainRun(s, 0)
	if i == len(s) {
		b = append(b, s...)
		return append(b, '"')
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if plainByte[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			b = appendEscape(b, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			if r == utf8.RuneError {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, `\u202`...)
				b = append(b, hexDigits[r&0xF])
			}
			start = i + size
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendEscape(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}
