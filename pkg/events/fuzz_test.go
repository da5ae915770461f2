package events

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzDecodeEvent: decoding never panics, accepts only valid JSON, and an
// accepted event re-encodes to bytes that decode to the same encoding.
func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(goodEvent))
	f.Add(EncodePacket(sampleEvents())[:bytes.IndexByte(EncodePacket(sampleEvents()), '\n')])
	f.Add([]byte(`{"specversion":"1.0","data":{"quantity":1e3,"tier":2.0,"attributes":{"a":"\u00e9"}},"time":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"data":{"quantity":"NaN"}}`))
	f.Add([]byte(`[{"a":[1,2,{"b":null}]}]`))
	f.Add([]byte(`{"id":"\ud800","data":null}`))
	c := testCatalog(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		e, rej := DecodeEvent(b)
		if rej != nil {
			if rej.Reason == "" || rej.Message == "" {
				t.Fatalf("empty rejection %+v", rej)
			}
			return
		}
		if !json.Valid(b) {
			t.Fatalf("accepted invalid JSON %q", b)
		}
		_ = c.Validate(&e, testNow)
		enc, err := e.MarshalJSON()
		if err != nil {
			return // a time outside years 0..9999 cannot be encoded
		}
		back, rej := DecodeEvent(enc)
		if rej != nil {
			t.Fatalf("re-encoded event rejected: %v\n%s", rej, enc)
		}
		again, _ := back.MarshalJSON()
		if !bytes.Equal(enc, again) {
			t.Fatalf("not stable:\n%s\n%s", enc, again)
		}
	})
}

// FuzzSplitBatch: never panics and every element of an accepted batch is valid JSON.
func FuzzSplitBatch(f *testing.F) {
	f.Add([]byte(`[{"a":"]"},[1,2],"x",null]`))
	f.Add([]byte(` [ ] `))
	f.Fuzz(func(t *testing.T, b []byte) {
		parts, err := SplitBatch(b, 100)
		if err != nil {
			return
		}
		for _, p := range parts {
			if !json.Valid(p) {
				t.Fatalf("element %q of %q is not valid JSON", p, b)
			}
		}
	})
}
