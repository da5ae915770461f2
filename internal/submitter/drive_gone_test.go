package submitter

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
)

// fileRead is the path of a read of one usage file.
var fileRead = regexp.MustCompile(`/usage/files/[^/]+$`)

// notFoundTransport answers 404, as Connect does for a file it does not know, to the next `left` reads of a
// single file once an upload has gone through; every other request goes to the server.
type notFoundTransport struct {
	mu       sync.Mutex
	uploaded bool
	left     int
}

func (t *notFoundTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.mu.Lock()
	inject := t.uploaded && t.left > 0 && r.Method == http.MethodGet && fileRead.MatchString(r.URL.Path)
	if inject {
		t.left--
	}
	t.mu.Unlock()
	if inject {
		body := `{"error_code":"SYS_002","errors":["Object not found."]}`
		return &http.Response{StatusCode: http.StatusNotFound, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/upload") && resp.StatusCode < 300 {
		t.mu.Lock()
		t.uploaded = true
		t.mu.Unlock()
	}
	return resp, err
}

// TestPassing404sDoNotParkTheFile: Connect answers 404 for an existing file as many times as parks an
// entry; the lookup by external id finds the file itself, so the entry carries on.
func TestPassing404sDoNotParkTheFile(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	subs := subscriptions("N404", 2)
	env.seedAssets(subs...)
	o := env.options()
	o.HTTPClient = &http.Client{Transport: &notFoundTransport{left: permanentConfirmations}}
	env.start(o)
	env.closePeriod(period(1), subs)
	e := env.waitState(ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: period(1).Start, Part: 1},
		30*time.Second, ledger.StateAccepted)
	if e.Uploads != 1 || e.Attempts != 0 {
		t.Errorf("%d uploads, %d attempts left", e.Uploads, e.Attempts)
	}
}

// TestFileGoneIsParkedAfterALookup: the ledger names a file Connect does not know; the entry is parked at
// the third 404 in a row, naming the live file that holds its external id.
func TestFileGoneIsParkedAfterALookup(t *testing.T) {
	env := newTestEnv(t, connectemu.ProviderPolicy{}) // a manual provider: the file stays pending
	subs := subscriptions("G404", 2)
	env.seedAssets(subs...)
	stop := env.start(env.options())
	id := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: period(1).Start, Part: 1}
	env.closePeriod(period(1), subs)
	real := env.waitState(id, 30*time.Second, ledger.StateSubmitted).FileID
	stop()

	ctx := context.Background()
	e, rev, err := env.ledger.Get(ctx, id.Key())
	if err != nil {
		t.Fatal(err)
	}
	e.FileID, e.Owner, e.NextAt = "UF-2026-11-0000-0000", "", time.Time{} // a file Connect does not know
	if _, err := env.ledger.Update(ctx, e, rev); err != nil {
		t.Fatal(err)
	}
	env.start(env.options())
	e = env.waitState(id, 30*time.Second, ledger.StateFailed)
	if e.Attempts != permanentConfirmations || !strings.Contains(e.Reason, "file_gone") ||
		!strings.Contains(e.Reason, real+" (pending) hold(s) it") {
		t.Errorf("parked after %d attempts, reason %q", e.Attempts, e.Reason)
	}
}
