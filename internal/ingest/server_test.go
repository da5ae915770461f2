package ingest_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ingest"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// gatedBus is the real bus whose PublishBatch, once entered (reported on entered), waits for open to close.
type gatedBus struct {
	*bus.Conn
	entered chan struct{}
	open    chan struct{}
}

func newGatedBus() *gatedBus {
	return &gatedBus{entered: make(chan struct{}, 100), open: make(chan struct{})}
}

func (g *gatedBus) wrap(c *bus.Conn) ingest.Bus { g.Conn = c; return g }

func (g *gatedBus) PublishBatch(ctx context.Context, msgs []bus.Msg) ([]bus.PubAck, error) {
	g.entered <- struct{}{}
	<-g.open
	return g.Conn.PublishBatch(ctx, msgs)
}

// postAsync posts body and delivers the reply (or the error) on the returned channel.
func postAsync(ctx context.Context, base string, body []byte) <-chan reply {
	out := make(chan reply, 1)
	go func() {
		r, err := postTo(ctx, base, ingest.MediaCloudEvent, body)
		if err != nil {
			r.raw = err.Error()
		}
		out <- r
	}()
	return out
}

func TestRequestsBeyondTheConcurrencyLimitAnswer503AtOnce(t *testing.T) {
	g := newGatedBus()
	s := startStackWith(t, ingest.Config{Partitions: 2, MaxConcurrent: 1, RetryAfter: time.Second}, g.wrap)
	first := postAsync(testContext(t), s.http.URL, mustJSON(t, goodEvent("first", asset(1))))
	<-g.entered
	r := s.post(t, ingest.MediaCloudEvent, mustJSON(t, goodEvent("second", asset(1))))
	if r.code != http.StatusServiceUnavailable || r.retryAfter != "1" {
		t.Errorf("over the limit: want 503 with Retry-After 1, have %d %q: %s", r.code, r.retryAfter, r.raw)
	}
	close(g.open)
	if r := <-first; r.code != http.StatusOK {
		t.Fatalf("first: %d %s", r.code, r.raw)
	}
	if r := s.post(t, ingest.MediaCloudEvent, mustJSON(t, goodEvent("third", asset(1)))); r.code != http.StatusOK {
		t.Errorf("after the first finished: %d %s", r.code, r.raw)
	}
	checkStoredOnce(t, s, 2)
}

// serve runs ServeWith on a fresh loopback listener until the test ends; it returns the base URL and the
// channel of ServeWith's result, and the function that starts the shutdown.
func serve(t *testing.T, h http.Handler, o ingest.ServerOptions) (base string, done <-chan error, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch := make(chan error, 1)
	go func() { ch <- ingest.ServeWith(ctx, ln, h, o) }()
	return "http://" + ln.Addr().String(), ch, cancel
}

// rawExchange writes req on a new connection to base and reads until the server closes it; the read deadline
// is only a safety net: it means the server never ended the exchange.
func rawExchange(t *testing.T, base, req string) string {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetReadDeadline(time.Now().Add(testTimeout / 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(bufio.NewReader(conn))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the server never ended the exchange; read so far: %q", got)
	}
	return string(got)
}

func TestASlowBodyIsCutOffByTheReadTimeout(t *testing.T) {
	s := startStack(t, ingest.Config{Partitions: 2})
	base, _, _ := serve(t, s.handler, ingest.ServerOptions{ReadTimeout: 200 * time.Millisecond})
	got := rawExchange(t, base, "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{")
	if strings.HasPrefix(got, "HTTP/1.1 2") {
		t.Errorf("a body that never arrived was answered %q", got)
	}
}

func TestOversizedHeadersAre431(t *testing.T) {
	s := startStack(t, ingest.Config{Partitions: 2})
	base, _, _ := serve(t, s.handler, ingest.ServerOptions{MaxHeaderBytes: 16 << 10})
	body := string(mustJSON(t, goodEvent("h", asset(1))))
	req := fmt.Sprintf("POST /v1/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nX-Pad: %s\r\nContent-Length: %d\r\n\r\n%s",
		strings.Repeat("p", 64<<10), len(body), body)
	if got := rawExchange(t, base, req); !strings.HasPrefix(got, "HTTP/1.1 431") {
		t.Errorf("want 431, have %.80q", got)
	}
}

// TestShutdownFinishesInFlightRequests: once shutdown begins /readyz answers 503, while a request whose
// publish is in flight is still answered 200, its event stored, before ServeWith returns.
func TestShutdownFinishesInFlightRequests(t *testing.T) {
	g := newGatedBus()
	s := startStackWith(t, ingest.Config{Partitions: 2}, g.wrap)
	base, done, stop := serve(t, s.handler, ingest.ServerOptions{})
	inFlight := postAsync(testContext(t), base, mustJSON(t, goodEvent("in-flight", asset(1))))
	<-g.entered
	stop()
	for ctx := testContext(t); readyz(s.handler) != http.StatusServiceUnavailable; {
		if ctx.Err() != nil {
			t.Fatal("/readyz never answered 503 during shutdown")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("ServeWith returned with a request in flight: %v", err)
	default:
	}
	close(g.open)
	if r := <-inFlight; r.code != http.StatusOK || r.body.Accepted != 1 {
		t.Fatalf("in-flight request: %d %s", r.code, r.raw)
	}
	if err := <-done; err != nil {
		t.Fatalf("ServeWith: %v", err)
	}
	if n := storedKeys(s.readStored(t))[events.Key{Source: "test/producer", ID: "in-flight"}]; n != 1 {
		t.Errorf("the in-flight event is stored %d times, want 1", n)
	}
}

// readyz asks h's /readyz directly (the listener may be closed) and returns the status code.
func readyz(h http.Handler) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	return rec.Code
}
