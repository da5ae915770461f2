package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ingest"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// readDeadLetters reads every message of USAGE_DLQ back.
func (s *stack) readDeadLetters(t testing.TB) []bus.Msg {
	t.Helper()
	var out []bus.Msg
	err := s.conn.Read(testContext(t), bus.StreamDLQ, bus.ReadOptions{}, func(m bus.Msg) error {
		out = append(out, m)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// metricsText is the service's /metrics page.
func (s *stack) metricsText(t testing.TB) string {
	t.Helper()
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// keptBody is a batch, spaced as a producer may send it: a valid event, one of an unknown product, one
// without an id (its form: never kept), one of an unknown item.
func keptBody(t *testing.T) (body string, unknownProduct, unknownItem string) {
	good := string(mustJSON(t, goodEvent("k-1", asset(1))))
	up := goodEvent("k-2", asset(2))
	up.Data["product"] = "PRD-NOT-THERE"
	noID := goodEvent("", asset(3))
	ui := goodEvent("k-4", asset(4))
	ui.Data["item"] = "NO-SUCH-ITEM"
	unknownProduct = strings.Replace(string(mustJSON(t, up)), `"id":`, ` "id" : `, 1) // not compact: kept byte for byte
	unknownItem = string(mustJSON(t, ui))
	return "[\n " + good + ",\n " + unknownProduct + " ,\n" + string(mustJSON(t, noID)) + ",\n\t" + unknownItem + "\n]", unknownProduct, unknownItem
}

// TestKeptRejectionsAreStoredBeforeTheAnswer: with KeepRejected, the events rejected for a curable reason
// are dead letters on usage.dlq.ingest.<reason> with their bytes as sent when the answer comes, the answer
// is the same as without, a retried request stores nothing twice, and the dead letters are counted.
func TestKeptRejectionsAreStoredBeforeTheAnswer(t *testing.T) {
	s := startStack(t, ingest.Config{Partitions: 4, KeepRejected: true})
	body, unknownProduct, unknownItem := keptBody(t)
	r := s.post(t, ingest.MediaBatch, []byte(body))
	want := []string{"accepted", "rejected:unknown_product", "rejected:missing_field", "rejected:unknown_item"}
	if got := r.statuses(); strings.Join(got, " ") != strings.Join(want, " ") || r.code != http.StatusMultiStatus {
		t.Fatalf("answer %d %v, want 207 %v", r.code, got, want)
	}
	s.post(t, ingest.MediaBatch, []byte(body)) // a retry
	msgs := s.readDeadLetters(t)
	if len(msgs) != 2 {
		t.Fatalf("%d dead letters, want 2 (one per curable rejection, none for the retry)", len(msgs))
	}
	for i, want := range []struct {
		reason events.Reason
		raw    string
		id     string
	}{{events.ReasonUnknownProduct, unknownProduct, "k-2"}, {events.ReasonUnknownItem, unknownItem, "k-4"}} {
		dl := decodeDeadLetter(t, msgs[i])
		if msgs[i].Subject != subjects.DeadLetters(events.StageIngest, want.reason) || dl.Stage != events.StageIngest || dl.Reason != want.reason {
			t.Errorf("dead letter %d: %s %+v", i, msgs[i].Subject, dl)
		}
		if string(dl.OriginalPayload()) != want.raw {
			t.Errorf("dead letter %d holds %q, want the bytes sent %q", i, dl.OriginalPayload(), want.raw)
		}
		e, rej := events.DecodeEvent(dl.OriginalPayload())
		if rej != nil || e.ID != want.id || dl.Subject != subjects.Events(events.Partition(e.Subject, 4)) {
			t.Errorf("dead letter %d: event %s (%v), subject %s", i, e.ID, rej, dl.Subject)
		}
	}
	m := s.metricsText(t)
	for _, line := range []string{`usagepipe_dead_letters_total{reason="unknown_product",stage="ingest"} 1`,
		`usagepipe_dead_letters_total{reason="too_old",stage="ingest"} 0`} {
		if !strings.Contains(m, line) {
			t.Errorf("metrics lack %s", line)
		}
	}
}

func decodeDeadLetter(t *testing.T, m bus.Msg) events.DeadLetter {
	t.Helper()
	var dl events.DeadLetter
	if err := json.Unmarshal(m.Data, &dl); err != nil {
		t.Fatal(err)
	}
	return dl
}

func TestRejectionsAreNotKeptByDefault(t *testing.T) {
	s := startStack(t, ingest.Config{Partitions: 4})
	body, _, _ := keptBody(t)
	s.post(t, ingest.MediaBatch, []byte(body))
	if msgs := s.readDeadLetters(t); len(msgs) != 0 {
		t.Fatalf("%d dead letters without --keep-rejected", len(msgs))
	}
	if strings.Contains(s.metricsText(t), "usagepipe_dead_letters_total") {
		t.Error("ingest counts dead letters it never writes")
	}
}

// TestAnotherProducersEventIsNeverKept: an event of a source the key may not write is not kept, whatever
// validation said of it, so no key can plant another producer's (source, id) for a replay.
func TestAnotherProducersEventIsNeverKept(t *testing.T) {
	s := startStack(t, ingest.Config{Partitions: 4, KeepRejected: true,
		APIKeys: []ingest.APIKey{{Key: "key-a", Sources: []string{"/a/"}}, {Key: "key-b", Sources: []string{"test/producer"}}}})
	e := goodEvent("x-1", asset(1))
	e.Data["product"] = "PRD-NOT-THERE"
	r := s.post(t, ingest.MediaCloudEvent, mustJSON(t, e), "Authorization", "Bearer key-a")
	if got := r.statuses(); len(got) != 1 || got[0] != "rejected:unknown_product" {
		t.Fatalf("answer %v", got)
	}
	if msgs := s.readDeadLetters(t); len(msgs) != 0 {
		t.Fatalf("kept another producer's event: %d dead letters", len(msgs))
	}
	r = s.post(t, ingest.MediaCloudEvent, mustJSON(t, e), "Authorization", "Bearer key-b")
	if msgs := s.readDeadLetters(t); len(msgs) != 1 {
		t.Fatalf("its own producer's rejection: %d dead letters, answer %v", len(msgs), r.statuses())
	}
}

// failingDLQ refuses every publish that carries a dead letter.
type failingDLQ struct{ *bus.Conn }

func (f failingDLQ) PublishBatch(ctx context.Context, msgs []bus.Msg) ([]bus.PubAck, error) {
	for _, m := range msgs {
		if strings.HasPrefix(m.Subject, subjects.DLQRoot) {
			return nil, errors.New("dlq unavailable")
		}
	}
	return f.Conn.PublishBatch(ctx, msgs)
}

// TestNoAnswerUntilTheKeptRejectionIsStored: a dead letter that cannot be stored fails the request (503),
// as an event packet would: nothing is reported stored.
func TestNoAnswerUntilTheKeptRejectionIsStored(t *testing.T) {
	s := startStackWith(t, ingest.Config{Partitions: 4, KeepRejected: true}, func(c *bus.Conn) ingest.Bus { return failingDLQ{c} })
	body, _, _ := keptBody(t)
	if r := s.post(t, ingest.MediaBatch, []byte(body)); r.code != http.StatusServiceUnavailable {
		t.Fatalf("answer %d %s, want 503", r.code, r.raw)
	}
	if n := len(s.readStored(t)); n != 0 {
		t.Fatalf("%d packets stored by a request answered 503", n)
	}
}
