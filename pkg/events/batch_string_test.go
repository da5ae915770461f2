package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// batchSeeds are arrays that exercise DecodeBatchString's fallbacks: rejected events, broken arrays, too many
// elements, deep nesting, escapes, oversized events.
func batchSeeds() []string {
	tooLarge := `{"specversion":"1.0","id":"big","x":"` + strings.Repeat("a", MaxEventBytes) + `"}`
	deep := strings.Repeat("[", 300) + strings.Repeat("]", 300)
	return []string{
		`[` + goodEvent + `,` + goodEvent + `]`,
		`[` + goodEvent + `, {"specversion":"1.0","data":{"quantity":"NaN"}} ,3,null,"x",[]]`,
		`[` + goodEvent + `,{"id":"a\u00e9\n","source":"s\\\"","data":{"quantity":1e3,"attributes":{"k":1}}}]`,
		`[{"data":{"attributes":{"a":"\ud800"},"quantity":"1"},"time":"2026-01-01T00:00:00Z"}]`,
		`[{"a":` + deep + `}, {"id":"1"}]`,
		`[` + tooLarge + `,` + goodEvent + `]`,
		`[` + goodEvent + `,{"id":"1",}]`,
		`[` + goodEvent + `,{"id":"1"}`,
		`[{},{},{},{}]`,
		` [ ] `,
		`[{"data":null,"time":null,"id":null}] x`,
		`{"a":1}`,
		`[{"specversion":"1.0","data":{"quantity":"1","tier":2.0,"amount":"-0.5"},"time":"2026-01-01T00:00:00.10Z"}]`,
	}
}

// FuzzDecodeBatchString: DecodeBatchString gives exactly what SplitBatch and DecodeEvent give, SplitBatch
// judges validity as json.Valid does, and DecodeEventString decodes as DecodeEvent does.
func FuzzDecodeBatchString(f *testing.F) {
	for _, s := range batchSeeds() {
		f.Add([]byte(s), 3)
	}
	f.Fuzz(func(t *testing.T, b []byte, maxEvents int) {
		maxEvents %= 8
		raws, wantErr := SplitBatch(b, maxEvents)
		if errors.Is(wantErr, ErrBadBatchJSON) == json.Valid(b) {
			t.Fatalf("SplitBatch error %v, json.Valid %v: %q", wantErr, json.Valid(b), b)
		}
		all, allErr := SplitBatch(b, 0) // every element, even beyond maxEvents
		n := 0
		err := DecodeBatchString(string(b), maxEvents, func(i int, e Event, rej *Rejection) {
			if allErr != nil { // a broken array: these calls are void
				return
			}
			if i != n || i >= len(all) {
				t.Fatalf("element %d passed as %d, of %d", n, i, len(all))
			}
			ws, wrej := DecodeEvent(all[i])
			if !reflect.DeepEqual(e, ws) || !reflect.DeepEqual(rej, wrej) {
				t.Fatalf("element %d %q:\nDecodeBatchString %+v %v\nDecodeEvent       %+v %v", i, all[i], e, rej, ws, wrej)
			}
			n++
		})
		if fmtErr(err) != fmtErr(wantErr) {
			t.Fatalf("DecodeBatchString error %v, SplitBatch error %v", err, wantErr)
		}
		if err == nil && n != len(raws) {
			t.Fatalf("%d elements decoded, SplitBatch has %d", n, len(raws))
		}
		for _, raw := range raws {
			e, rej := DecodeEventString(string(raw))
			we, wrej := DecodeEvent(raw)
			if !reflect.DeepEqual(e, we) || !reflect.DeepEqual(rej, wrej) {
				t.Fatalf("DecodeEventString %+v %v, DecodeEvent %+v %v", e, rej, we, wrej)
			}
		}
	})
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestDecodeBatchStringKeepsRejectionsApart(t *testing.T) {
	body := `[` + goodEvent + `,{"specversion":"1.0","data":{"quantity":"NaN"}},` + goodEvent + `]`
	var reasons []Reason
	err := DecodeBatchString(body, 10, func(i int, e Event, rej *Rejection) {
		if rej != nil {
			reasons = append(reasons, rej.Reason)
			return
		}
		if e.Time != time.Date(2026, 5, 20, 9, 59, 0, 123456789, time.UTC) || e.Data.Attributes["region"] != "eu" {
			t.Errorf("event %d decoded as %+v", i, e)
		}
		reasons = append(reasons, "")
	})
	if err != nil || !reflect.DeepEqual(reasons, []Reason{"", ReasonBadQuantity, ""}) {
		t.Fatalf("reasons %v, error %v", reasons, err)
	}
	for _, broken := range []string{`[` + goodEvent + `,{"id":1,}]`, `[` + goodEvent, `[` + goodEvent + `]]`} {
		if err := DecodeBatchString(broken, 10, func(int, Event, *Rejection) {}); !errors.Is(err, ErrBadBatchJSON) {
			t.Errorf("%.40q: error %v, want ErrBadBatchJSON", broken, err)
		}
	}
	if err := DecodeBatchString(`[{},{},{}]`, 2, func(int, Event, *Rejection) {}); !errors.Is(err, ErrTooManyEvents) {
		t.Errorf("error %v, want ErrTooManyEvents", err)
	}
}

func TestSplitBatchDepthAsJSONValid(t *testing.T) {
	for _, n := range []int{maxValidDepth - 1, maxValidDepth, maxValidDepth + 1} {
		b := []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
		_, err := SplitBatch(b, 0)
		if errors.Is(err, ErrBadBatchJSON) == json.Valid(b) {
			t.Errorf("depth %d: SplitBatch error %v, json.Valid %v", n, err, json.Valid(b))
		}
		if _, err := SplitBatch(bytes.Replace(b, []byte("[]"), []byte("{}"), 1), 0); errors.Is(err, ErrBadBatchJSON) == json.Valid(b) {
			t.Errorf("depth %d with an object: SplitBatch error %v", n, err)
		}
	}
}
