package bus

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/natsembed"
	"github.com/usagepipe/usagepipe/internal/natsembed/natsembedtest"
)

// testTimeout bounds every test's operations; it is a safety net, not an assertion.
const testTimeout = 60 * time.Second

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// quietLog discards logs unless BUS_TEST_LOG is set.
func quietLog() *slog.Logger {
	if os.Getenv("BUS_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// connect connects to url and closes the connection at the end of the test.
func connect(t testing.TB, url string) *Conn {
	t.Helper()
	c, err := Connect(testContext(t), Config{URL: url, Name: t.Name(), Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// setup starts a server, connects and provisions the topology.
func setup(t testing.TB) (*natsembed.Server, *Conn) {
	t.Helper()
	srv := natsembedtest.Start(t)
	c := connect(t, srv.URL())
	if err := c.Provision(testContext(t), Topology{}); err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// readAll reads the whole stream (Follow false).
func readAll(t testing.TB, c *Conn, stream string, o ReadOptions) []Msg {
	t.Helper()
	var msgs []Msg
	err := c.Read(testContext(t), stream, o, func(m Msg) error {
		msgs = append(msgs, m)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func eventMsg(p int, id string, data string) Msg {
	return Msg{
		Subject: fmt.Sprintf("%s.%d", SubjectEvents, p),
		Header:  Header{HeaderMsgID: {id}},
		Data:    []byte(data),
	}
}

// waitUntil polls cond every 5 ms until it holds, failing the test at its context's deadline.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	ctx := testContext(t)
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// logRecords is a slog.Handler that keeps the messages of every record, at every level, for a test to wait on.
type logRecords struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecords) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecords) WithGroup(string) slog.Handler            { return l }

func (l *logRecords) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}

// has reports whether a record with message msg was logged.
func (l *logRecords) has(msg string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Contains(l.msgs, msg)
}
