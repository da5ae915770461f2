package ingest

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/usagepipe/usagepipe/pkg/events"
)

func TestAppendResponseMatchesEncodingJSON(t *testing.T) {
	odd := []string{"", "plain-id_01", `q"uote`, `back\slash`, "<b>&amp;</b>", "tab\tnew\nline\x01", "é ü 漢字",
		"\u2028\u2029", "bad\xffutf8", "\x7f", "https://metering.example.com/collectors/3"}
	var results []events.Result
	for i, s := range odd {
		results = append(results,
			events.Result{Index: i, ID: s, Source: s, Status: events.StatusAccepted},
			events.Result{Index: i, ID: s, Status: events.StatusRejected, Reason: events.ReasonBadJSON, Field: s, Message: s},
			events.Result{Index: i, Source: s, Status: events.StatusDuplicate, Message: "repeats " + s},
			events.Result{Index: -i, Status: events.Status(s)})
	}
	for _, r := range []events.IngestResponse{
		{},
		{Results: []events.Result{}},
		{Accepted: 3, Duplicates: 2, Rejected: 1 << 40, Results: results},
	} {
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(r); err != nil {
			t.Fatal(err)
		}
		if got := appendResponse(nil, &r); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("appendResponse:\n%s\nencoding/json:\n%s", got, want.Bytes())
		}
	}
}
