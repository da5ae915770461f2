package events

import "testing"

// TestTraceFieldsLenIsWhatTheFieldsAddToTheEncoding: with plain and escaped values, and either field empty.
func TestTraceFieldsLenIsWhatTheFieldsAddToTheEncoding(t *testing.T) {
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, c := range []struct{ tp, ts string }{{"", ""}, {tp, ""}, {tp, "k=v,x=\"q\\\""}, {"", "a=b"}} {
		e := sampleEvents()[0]
		e.TraceParent, e.TraceState = "", ""
		bare, err := e.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		e.TraceParent, e.TraceState = c.tp, c.ts
		traced, err := e.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if want, have := len(traced)-len(bare), TraceFieldsLen(c.tp, c.ts); want != have {
			t.Errorf("%q %q: the fields add %d bytes, TraceFieldsLen says %d", c.tp, c.ts, want, have)
		}
	}
}
