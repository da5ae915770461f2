package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ingest"
	"github.com/usagepipe/usagepipe/pkg/events"
)

func TestMixedBatchStoresExactlyTheGoodEvents(t *testing.T) {
	s := startStack(t, ingest.Config{Partitions: 4})
	unknownProduct := goodEvent("bad-1", asset(1))
	unknownProduct.Data["product"] = "PRD-NOPE"
	tooPrecise := goodEvent("bad-2", asset(2))
	tooPrecise.Data["quantity"] = "1.001"
	batch := []any{
		goodEvent("e-3", asset(3)), unknownProduct, goodEvent("e-1", asset(1)), 42, tooPrecise,
		goodEvent("e-2", asset(2)), goodEvent("e-4", asset(3)),
	}
	r := s.post(t, ingest.MediaBatch, mustJSON(t, batch))

	if want, have := http.StatusMultiStatus, r.code; want != have {
		t.Fatalf("code: want %d, have %d: %s", want, have, r.raw)
	}
	want := []string{"accepted", "rejected:unknown_product", "accepted", "rejected:bad_json", "rejected:bad_quantity", "accepted", "accepted"}
	if have := r.statuses(); !slices.Equal(want, have) {
		t.Errorf("statuses:\nwant %v\nhave %v", want, have)
	}
	if r.body.Accepted != 4 || r.body.Rejected != 3 || r.body.Duplicates != 0 {
		t.Errorf("counts: %+v", r.body)
	}
	packets := s.readStored(t)
	keys := storedKeys(packets)
	for _, id := range []string{"e-1", "e-2", "e-3", "e-4"} {
		if n := keys[events.Key{Source: "test/producer", ID: id}]; n != 1 {
			t.Errorf("event %s stored %d times, want 1", id, n)
		}
	}
	if len(keys) != 4 {
		t.Errorf("want exactly the 4 good events stored, have %v", keys)
	}
	checkPackets(t, packets, 4)
}

// checkPackets checks the packet contract of docs/DESIGN.md: one partition per packet on its subject, events
// sorted by key, the kind header and a msg-id.
func checkPackets(t *testing.T, packets []storedPacket, partitions int) {
	t.Helper()
	for _, p := range packets {
		if want, have := events.KindEvents, p.msg.Header.Get(events.HeaderKind); want != have {
			t.Errorf("packet %d kind: want %q, have %q", p.msg.Seq, want, have)
		}
		if id := p.msg.Header.Get(bus.HeaderMsgID); len(id) != 64 {
			t.Errorf("packet %d msg-id %q is not a hex sha256", p.msg.Seq, id)
		}
		for i, e := range p.events {
			subject := "usage.events." + strconv.Itoa(events.Partition(e.Subject, partitions))
			if p.msg.Subject != subject {
				t.Errorf("event %s of subscription %s is on %s, want %s", e.ID, e.Subject, p.msg.Subject, subject)
			}
			if i > 0 && p.events[i-1].Key().Compare(e.Key()) >= 0 {
				t.Errorf("packet %d is not sorted by key at %d", p.msg.Seq, i)
			}
		}
	}
}

// TestRetriedRequestStoresNothingTwice retries requests and counts the copies of every event in the stream.
func TestRetriedRequestStoresNothingTwice(t *testing.T) {
	for _, recent := range []int{0, -1} { // with and without the process's memory of stored keys
		t.Run(fmt.Sprintf("recent-ids=%d", recent), func(t *testing.T) {
			s := startStack(t, ingest.Config{Partitions: 4, RecentIDs: recent})
			body := mustJSON(t, eventsOf("e-", 20))
			first := s.post(t, ingest.MediaJSON, body)
			if first.code != http.StatusOK || first.body.Accepted != 20 {
				t.Fatalf("first: %d %s", first.code, first.raw)
			}
			again := s.post(t, ingest.MediaJSON, body)
			if again.code != http.StatusOK || again.body.Duplicates != 20 || again.body.Accepted != 0 {
				t.Fatalf("retry: want 200 with 20 duplicates, have %d %s", again.code, again.raw)
			}
			checkStoredOnce(t, s, 20)
		})
	}
	// The memory of stored keys turns a generation between the request and its retry: the retry must find
	// all of the request's keys or none, never publish part of them under a new msg-id.
	for _, between := range [][]string{{"x"}, {"x", "y"}} {
		t.Run("memory turns after "+strings.Join(between, ","), func(t *testing.T) {
			s := startStack(t, ingest.Config{Partitions: 4, RecentIDs: 4})
			body := mustJSON(t, []ev{goodEvent("a", asset(1)), goodEvent("b", asset(1)), goodEvent("c", asset(1)), goodEvent("d", asset(1))})
			s.post(t, ingest.MediaBatch, body)
			for _, id := range between {
				s.post(t, ingest.MediaBatch, mustJSON(t, []ev{goodEvent(id, asset(9))}))
			}
			again := s.post(t, ingest.MediaBatch, body)
			if want, have := []string{"duplicate", "duplicate", "duplicate", "duplicate"}, again.statuses(); !slices.Equal(want, have) {
				t.Errorf("retry: want %v, have %v", want, have)
			}
			checkStoredOnce(t, s, 4+len(between))
		})
	}
	// A request that repeats part of an earlier one: the remembered events are left out of their packet.
	t.Run("overlapping requests", func(t *testing.T) {
		s := startStack(t, ingest.Config{Partitions: 4})
		s.post(t, ingest.MediaBatch, mustJSON(t, []ev{goodEvent("a", asset(1)), goodEvent("b", asset(1))}))
		r := s.post(t, ingest.MediaBatch, mustJSON(t, []ev{goodEvent("c", asset(1)), goodEvent("a", asset(1)), goodEvent("d", asset(1)), goodEvent("b", asset(1))}))
		if want, have := []string{"accepted", "duplicate", "accepted", "duplicate"}, r.statuses(); !slices.Equal(want, have) {
			t.Errorf("want %v, have %v", want, have)
		}
		checkStoredOnce(t, s, 4)
	})
	// A retry with other tracing headers: the request's trace context is written into its events, but where
	// a large partition splits into packets must not depend on it.
	t.Run("other trace context", func(t *testing.T) {
		s := startStack(t, ingest.Config{Partitions: 1, RecentIDs: -1})
		evs := eventsOf("big-", 1000)
		for i := range evs {
			evs[i].Data["attributes"] = map[string]string{"pad": strings.Repeat("p", 300)}
		}
		body := mustJSON(t, evs)
		if r := s.post(t, ingest.MediaBatch, body); r.code != http.StatusOK || r.body.Accepted != len(evs) {
			t.Fatalf("first: %d %s", r.code, r.raw)
		}
		state := "a0=" + strings.Repeat("a", 240) + ",a1=" + strings.Repeat("b", 240)
		r := s.post(t, ingest.MediaBatch, body, "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tracestate", state)
		if r.code != http.StatusOK || r.body.Duplicates != len(evs) {
			t.Errorf("retry with a tracestate: want %d duplicates, have %d %d accepted", len(evs), r.code, r.body.Accepted)
		}
		packets := s.readStored(t)
		if len(packets) < 2 {
			t.Fatalf("want the request split into packets, have %d", len(packets))
		}
		checkStoredOnce(t, s, len(evs))
	})
}

// eventsOf is n valid events with ids prefix0…, over 5 subscriptions.
func eventsOf(prefix string, n int) []ev {
	var evs []ev
	for i := range n {
		evs = append(evs, goodEvent(fmt.Sprint(prefix, i), asset(i%5)))
	}
	return evs
}

// checkStoredOnce checks that the stream holds want distinct events, each exactly once.
func checkStoredOnce(t *testing.T, s *stack, want int) {
	t.Helper()
	stored := storedKeys(s.readStored(t))
	for key, n := range stored {
		if n != 1 {
			t.Errorf("%v stored %d times", key, n)
		}
	}
	if len(stored) != want {
		t.Errorf("want %d events stored, have %d", want, len(stored))
	}
}

func TestRepeatWithinOneRequestIsADuplicate(t *testing.T) {
	s := startStack(t, ingest.Config{Partitions: 2})
	e := goodEvent("same", asset(1))
	e.TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	retraced := e
	retraced.TraceParent = "" // the trace context is not content
	r := s.post(t, ingest.MediaBatch, mustJSON(t, []ev{e, goodEvent("other", asset(2)), retraced}))
	if want, have := []string{"accepted", "accepted", "duplicate"}, r.statuses(); r.code != http.StatusOK || !slices.Equal(want, have) {
		t.Fatalf("want 200 %v, have %d %v", want, r.code, have)
	}
	if n := storedKeys(s.readStored(t))[events.Key{Source: "test/producer", ID: "same"}]; n != 1 {
		t.Errorf("stored %d times, want 1", n)
	}
}

// TestSameKeyWithOtherContentInOneRequestIsAConflict: the first is kept, the other rejected, not a duplicate.
func TestSameKeyWithOtherContentInOneRequestIsAConflict(t *testing.T) {
	s := startStack(t, ingest.Config{Partitions: 2})
	first, other := goodEvent("k", asset(1)), goodEvent("k", asset(1))
	other.Data = map[string]any{"product": "PRD-TEST-0001", "item": "UNITS", "quantity": "2"}
	r := s.post(t, ingest.MediaBatch, mustJSON(t, []ev{first, other}))
	if want, have := []string{"accepted", "rejected:conflict"}, r.statuses(); r.code != http.StatusMultiStatus || !slices.Equal(want, have) {
		t.Fatalf("want 207 %v, have %d %v", want, r.code, have)
	}
	if res := r.body.Results[1]; res.Field != "id" || !strings.Contains(res.Message, "event 0") {
		t.Errorf("conflict %+v: want field id and the first event's index", res)
	}
	packets := s.readStored(t)
	if len(packets) != 1 || len(packets[0].events) != 1 || packets[0].events[0].Data.Quantity.String() != "1.25" {
		t.Errorf("want the first event stored alone, have %+v", packets)
	}
}

func TestStatusCodes(t *testing.T) {
	s := startStack(t, ingest.Config{Partitions: 2, APIKeys: []ingest.APIKey{{Key: "key-a", Sources: []string{"/a/"}}, {Key: "key-b", Sources: []string{"*"}}}, MaxBody: 4 << 10, MaxBatch: 3})
	one := mustJSON(t, goodEvent("one", asset(1)))
	three := mustJSON(t, []ev{goodEvent("a", asset(1)), goodEvent("b", asset(1)), goodEvent("c", asset(1))})
	four := mustJSON(t, []ev{goodEvent("a", asset(1)), goodEvent("b", asset(1)), goodEvent("c", asset(1)), goodEvent("d", asset(1))})
	bad := goodEvent("bad", asset(1))
	bad.Data["item"] = "NOPE"
	auth := []string{"Authorization", "Bearer key-b"}
	tests := []struct {
		name        string
		contentType string
		body        []byte
		headers     []string
		want        int
	}{
		{"no key", ingest.MediaCloudEvent, one, nil, http.StatusUnauthorized},
		{"unknown key", ingest.MediaCloudEvent, one, []string{"Authorization", "Bearer key-c"}, http.StatusUnauthorized},
		{"not bearer", ingest.MediaCloudEvent, one, []string{"Authorization", "Basic key-b"}, http.StatusUnauthorized},
		{"single event", ingest.MediaCloudEvent, one, auth, http.StatusOK},
		{"json object with charset", "application/json; charset=utf-8", one, auth, http.StatusOK},
		{"batch at the limit", ingest.MediaBatch, three, auth, http.StatusOK},
		{"batch over the limit", ingest.MediaBatch, four, auth, http.StatusRequestEntityTooLarge},
		{"body over the limit", ingest.MediaBatch, []byte("[" + strings.Repeat(" ", 5<<10) + "]"), auth, http.StatusRequestEntityTooLarge},
		{"text/plain", "text/plain", one, auth, http.StatusUnsupportedMediaType},
		{"no content type", "", one, auth, http.StatusUnsupportedMediaType},
		{"not JSON", ingest.MediaJSON, []byte("{nope"), auth, http.StatusBadRequest},
		{"empty", ingest.MediaJSON, nil, auth, http.StatusBadRequest},
		{"array as a single event", ingest.MediaCloudEvent, three, auth, http.StatusBadRequest},
		{"object as a batch", ingest.MediaBatch, one, auth, http.StatusBadRequest},
		{"all rejected", ingest.MediaCloudEvent, mustJSON(t, bad), auth, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.post(t, tt.contentType, tt.body, tt.headers...)
			if r.code != tt.want {
				t.Errorf("want %d, have %d: %s", tt.want, r.code, r.raw)
			}
		})
	}
}

func TestMetricsCountEventsByStatusAndReason(t *testing.T) {
	s := startStack(t, ingest.Config{Partitions: 2})
	bad := goodEvent("bad", asset(1))
	bad.Time = "yesterday"
	s.post(t, ingest.MediaBatch, mustJSON(t, []ev{goodEvent("good", asset(1)), bad}))
	resp, err := http.Get(s.http.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := readAll(t, resp)
	for _, want := range []string{
		`usagepipe_ingest_events_total{reason="",status="accepted"} 1`,
		`usagepipe_ingest_events_total{reason="bad_time",status="rejected"} 1`,
		`usagepipe_ingest_request_duration_seconds_count{code="207",route="/v1/events"} 1`,
		`usagepipe_ingest_delay_seconds_count 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// An event whose period closed before the pipeline started reporting (the event stream's creation) could
// never be filed, since no aggregator partition marks such a period: it is rejected as too_old, not lost.
// The service's clock is the stream's creation time plus a minute, whenever the test runs.
func TestEventOfAPeriodClosedBeforeTheStartIsRejected(t *testing.T) {
	c := &clock{}
	s := startStack(t, ingest.Config{Partitions: 2, Now: c.now})
	c.set(s.created(t).Add(time.Minute))
	r := s.post(t, ingest.MediaBatch, mustJSON(t, []ev{closedBeforeStart(s, t), goodEventAt("now", asset(2), c.event(-time.Minute))}))
	if want, have := []string{"rejected:too_old", "accepted"}, r.statuses(); !slices.Equal(want, have) {
		t.Fatalf("want %v, have %v (%s)", want, have, r.raw)
	}
	if res := r.body.Results[0]; res.Reason != events.ReasonTooOld || res.Field != "time" {
		t.Errorf("rejection %+v, want too_old on time", res)
	}
	if n := storedKeys(s.readStored(t))[events.Key{Source: "test/producer", ID: "closed-before-start"}]; n != 0 {
		t.Errorf("the rejected event was stored %d times", n)
	}
}

// closedBeforeStart is an event of the month before last, as the stream's creation sees it: a period that
// closed (end plus the catalog's hour of lateness) before the pipeline started, yet within the max age.
func closedBeforeStart(s *stack, t testing.TB) ev {
	created := s.created(t)
	monthStart := time.Date(created.Year(), created.Month(), 1, 0, 0, 0, 0, time.UTC)
	return goodEventAt("closed-before-start", asset(1), monthStart.AddDate(0, -1, 0).Add(-time.Hour).Format(time.RFC3339Nano))
}

// lookupFailing is the real bus whose stream-creation lookup fails while fail is set.
type lookupFailing struct {
	*bus.Conn
	fail atomic.Bool
}

func (l *lookupFailing) StreamCreated(ctx context.Context, stream string) (time.Time, error) {
	if l.fail.Load() {
		return time.Time{}, errors.New("lookup failed (test)")
	}
	return l.Conn.StreamCreated(ctx, stream)
}

// TestUnknownReportingStartAnswers503: while the reporting start cannot be looked up, a request with valid
// events is answered 503 and stores nothing (it could hold an event of a period closed before the start);
// once known, the start is cached and later lookup failures do not matter.
func TestUnknownReportingStartAnswers503(t *testing.T) {
	c := &clock{}
	lf := &lookupFailing{}
	lf.fail.Store(true)
	s := startStackWith(t, ingest.Config{Partitions: 2, Now: c.now, RetryAfter: time.Second}, func(conn *bus.Conn) ingest.Bus {
		lf.Conn = conn
		return lf
	})
	c.set(s.created(t).Add(time.Minute))
	body := mustJSON(t, []ev{closedBeforeStart(s, t), goodEventAt("now", asset(2), c.event(-time.Minute))})
	if r := s.post(t, ingest.MediaBatch, body); r.code != http.StatusServiceUnavailable || r.retryAfter != "1" {
		t.Fatalf("lookup failing: want 503 with Retry-After 1, have %d %q: %s", r.code, r.retryAfter, r.raw)
	}
	if n := len(s.readStored(t)); n != 0 {
		t.Fatalf("a 503 stored %d packets", n)
	}
	if r := s.post(t, ingest.MediaBatch, mustJSON(t, []any{42})); r.code != http.StatusBadRequest {
		t.Errorf("a request without valid events: want 400 whatever the start, have %d", r.code)
	}
	lf.fail.Store(false)
	want := []string{"rejected:too_old", "accepted"}
	if r := s.post(t, ingest.MediaBatch, body); !slices.Equal(want, r.statuses()) {
		t.Fatalf("lookup working: want %v, have %d %v", want, r.code, r.statuses())
	}
	lf.fail.Store(true)
	if r := s.post(t, ingest.MediaBatch, body); !slices.Equal([]string{"rejected:too_old", "duplicate"}, r.statuses()) {
		t.Errorf("lookup failing after the start was known: have %d %v", r.code, r.statuses())
	}
	checkStoredOnce(t, s, 1)
}

// TestAChunkedBodyOverTheLimitIs413: without a Content-Length the limit applies while reading.
func TestAChunkedBodyOverTheLimitIs413(t *testing.T) {
	s := startStack(t, ingest.Config{Partitions: 2, MaxBody: 4 << 10})
	body := io.MultiReader(strings.NewReader("["+strings.Repeat(" ", 8<<10)), strings.NewReader("]")) // length unknown: chunked
	req, err := http.NewRequestWithContext(testContext(t), http.MethodPost, s.http.URL+"/v1/events", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ingest.MediaBatch)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if req.ContentLength != 0 { // 0 with a body: unknown, so the transport sends it chunked
		t.Fatalf("the request has a Content-Length %d", req.ContentLength)
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("want 413, have %d: %s", resp.StatusCode, readAll(t, resp))
	}
}
