package ingest_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/ingest"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// stalledUpload is a request that sent its headers and the start of its body, and then nothing.
type stalledUpload struct {
	conn net.Conn
}

// stall opens a connection to base and sends a POST /v1/events announcing 1000 bytes, of which it sends 2.
func stall(t *testing.T, base, key string) *stalledUpload {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	req := "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer " + key +
		"\r\nContent-Length: 1000\r\n\r\n[{"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	return &stalledUpload{conn}
}

// answer reads the server's answer until it closes the connection; the read deadline is only a safety net.
func (u *stalledUpload) answer(t *testing.T) string {
	t.Helper()
	if err := u.conn.SetReadDeadline(time.Now().Add(testTimeout / 2)); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(bufio.NewReader(u.conn))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the server never answered the stalled upload; read so far: %q", got)
	}
	return string(got)
}

// TestStalledUploadsOfOneKeyDoNotStarveAnother: key A holds as many stalled uploads as it may have requests
// in progress, more than the service's slots (before, each held a slot while its body was awaited, and every
// other producer got 503). Its next request is refused with 429, while key B's requests, even as many at once
// as there are slots, are all answered 200 and stored.
func TestStalledUploadsOfOneKeyDoNotStarveAnother(t *testing.T) {
	const slots, perKey = 4, 6
	s := startStack(t, ingest.Config{
		Partitions: 2, MaxConcurrent: slots, MaxRequestsPerKey: perKey, BodyGrace: time.Hour, RetryAfter: time.Second,
		APIKeys: []ingest.APIKey{{Key: "key-a", Sources: []string{"/a/"}}, {Key: "key-b", Sources: []string{"test/producer"}}},
	})
	var stalled []*stalledUpload
	for range perKey {
		stalled = append(stalled, stall(t, s.http.URL, "key-a"))
	}
	waitMetric(t, s, fmt.Sprintf("usagepipe_ingest_requests_reading %d", perKey))
	r := s.post(t, ingest.MediaCloudEvent, mustJSON(t, goodEvent("probe", asset(1))), "Authorization", "Bearer key-a")
	if r.code != http.StatusTooManyRequests || r.retryAfter != "1" {
		t.Fatalf("key A with %d requests in progress: want 429 with Retry-After 1, have %d %q %s", perKey, r.code, r.retryAfter, r.raw)
	}
	var wg sync.WaitGroup
	replies := make(chan reply, 3*slots)
	for round := range 3 {
		for i := range slots {
			wg.Go(func() {
				body := mustJSON(t, goodEvent(fmt.Sprintf("b-%d-%d", round, i), asset(i)))
				r, err := postTo(testContext(t), s.http.URL, ingest.MediaCloudEvent, body, "Authorization", "Bearer key-b")
				if err != nil {
					r.raw = err.Error()
				}
				replies <- r
			})
		}
		wg.Wait()
	}
	close(replies)
	for r := range replies {
		if r.code != http.StatusOK || r.body.Accepted != 1 {
			t.Errorf("key B while key A stalls: %d %s", r.code, r.raw)
		}
	}
	checkStoredOnce(t, s, 3*slots)
	for _, u := range stalled {
		u.conn.Close()
	}
}

// TestAStalledBodyEndsWith408: once the grace is over, a body that does not keep arriving is answered 408
// with the reason, and nothing is stored. A request whose body was read in time is not cut off by its body
// deadline while it waits for JetStream (net/http clears it once the body is read): it is answered 200
// after the stalled one, started later, got its 408.
func TestAStalledBodyEndsWith408(t *testing.T) {
	g := newGatedBus()
	// With this rate, a body's deadline is its start plus the grace: the in-time request's passes before
	// the stalled one's.
	s := startStackWith(t, ingest.Config{Partitions: 2, BodyGrace: 50 * time.Millisecond, MinBodyRate: 1 << 40}, g.wrap)
	waiting := postAsync(testContext(t), s.http.URL, mustJSON(t, goodEvent("in-time", asset(1))))
	<-g.entered
	got := stall(t, s.http.URL, "").answer(t)
	if !strings.HasPrefix(got, "HTTP/1.1 408") || !strings.Contains(got, "body too slow") {
		t.Errorf("stalled body: want 408 saying the body is too slow, have %q", got)
	}
	close(g.open)
	if r := <-waiting; r.code != http.StatusOK || r.body.Accepted != 1 {
		t.Errorf("the request waiting for JetStream: want 200 with 1 accepted, have %d %s", r.code, r.raw)
	}
	checkStoredOnce(t, s, 1)
}

// TestGzipBodies: a gzip body is read as its decompressed bytes; a body that decompresses beyond the limit
// (a gzip bomb) is 413 without being inflated in full; a body that is not gzip is 400; any other encoding
// is 415, naming the one accepted.
func TestGzipBodies(t *testing.T) {
	const limit = 64 << 10
	s := startStack(t, ingest.Config{Partitions: 2, MaxBody: limit})
	batch := mustJSON(t, []ev{goodEvent("gz-1", asset(1)), goodEvent("gz-2", asset(2))})
	bomb := gzipped(t, []byte("["+strings.Repeat(" ", 64<<20)+"]")) // 64 MiB of spaces in about 64 KiB
	gz := []string{"Content-Encoding", "gzip"}
	for _, tt := range []struct {
		name    string
		body    []byte
		headers []string
		want    int
		says    string
	}{
		{"gzip batch", gzipped(t, batch), gz, http.StatusOK, `"accepted":2`},
		{"identity", batch, []string{"Content-Encoding", "identity"}, http.StatusOK, `"duplicates":2`},
		{"gzip bomb", bomb, gz, http.StatusRequestEntityTooLarge, "once decompressed"},
		{"not gzip", batch, gz, http.StatusBadRequest, "not valid gzip"},
		{"brotli", batch, []string{"Content-Encoding", "br"}, http.StatusUnsupportedMediaType, "send gzip"},
		{"gzip twice", gzipped(t, gzipped(t, batch)), []string{"Content-Encoding", "gzip, gzip"}, http.StatusUnsupportedMediaType, "send gzip"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.body) > limit {
				t.Fatalf("the test body is %d bytes, over the limit itself", len(tt.body))
			}
			r := s.post(t, ingest.MediaBatch, tt.body, tt.headers...)
			if r.code != tt.want || !strings.Contains(r.raw, tt.says) {
				t.Errorf("want %d saying %q, have %d %s", tt.want, tt.says, r.code, r.raw)
			}
		})
	}
	keys := storedKeys(s.readStored(t))
	if len(keys) != 2 || keys[events.Key{Source: "test/producer", ID: "gz-1"}] != 1 {
		t.Errorf("want the 2 events of the gzip batch stored once, have %v", keys)
	}
}

// gzipped compresses b.
func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// waitMetric polls the service's /metrics until a line is exactly line.
func waitMetric(t *testing.T, s *stack, line string) {
	t.Helper()
	for ctx := testContext(t); ; {
		resp, err := http.Get(s.http.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		resp.Body.Close()
		if slices.Contains(strings.Split(body, "\n"), line) {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("/metrics never showed %q", line)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
