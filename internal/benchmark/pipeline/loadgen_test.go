package pipeline

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/usagepipe/usagepipe/pkg/events"
)

func TestParseAnswer(t *testing.T) {
	answer := func(r events.IngestResponse) []byte {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ok := answer(events.IngestResponse{Accepted: 2, Duplicates: 1, Results: []events.Result{
		{Index: 0, Status: events.StatusAccepted}, {Index: 1, Status: events.StatusDuplicate}, {Index: 2, Status: events.StatusAccepted}}})
	c, err := parseAnswer(ok, 3)
	if err != nil || c.accepted != 2 || c.duplicates != 1 || c.rejected != 0 {
		t.Fatalf("parseAnswer = %+v, %v", c, err)
	}
	sends := []send{{seq: 1}, {seq: 2}, {seq: 3}}
	if !slices.Equal(c.storedOf(sends), sends) {
		t.Error("every event of an answer without rejections is stored")
	}
	mixed := answer(events.IngestResponse{Accepted: 2, Rejected: 1, Results: []events.Result{
		{Index: 0, Status: events.StatusAccepted}, {Index: 1, Status: events.StatusRejected, Reason: events.ReasonTooOld, Field: "time"},
		{Index: 2, Status: events.StatusAccepted}}})
	c, err = parseAnswer(mixed, 3)
	if err != nil || c.rejected != 1 || len(c.reasons) != 1 {
		t.Fatalf("parseAnswer = %+v, %v", c, err)
	}
	if have := c.storedOf(sends); len(have) != 2 || have[0].seq != 1 || have[1].seq != 3 {
		t.Errorf("stored %+v, want events 1 and 3", have)
	}
	for _, bad := range [][]byte{[]byte(`{"accepted":1}`), []byte(`nope`), ok[:20]} {
		if _, err := parseAnswer(bad, 3); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
	if _, err := parseAnswer(ok, 4); err == nil {
		t.Error("an answer with fewer results than events: want an error")
	}
}
