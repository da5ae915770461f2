package submitter

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// TestCreateOfUnknownOutcomeIsLookedUpBeforeAnother: the first create makes the file but its answer is
// lost, and Connect's list misses the new file for the next two lists. The client does not retry, so the
// step fails; the submitter must look the file up again (it appears at the third list) rather than create
// a second one.
func TestCreateOfUnknownOutcomeIsLookedUpBeforeAnother(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	subs := subscriptions("LAG0", 2)
	env.seedAssets(subs...)
	if err := env.emu.SetFaults("files.create", connectemu.Fault{Kind: connectemu.FaultCommitDrop},
		connectemu.Fault{Kind: connectemu.FaultListLag, Lists: 2}); err != nil {
		t.Fatal(err)
	}
	o := env.options()
	o.Retry = usageapi.RetryPolicy{MaxAttempts: 1, ListLag: testListLag}
	env.start(o)
	env.closePeriod(period(1), subs)
	e := env.waitState(ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: period(1).Start, Part: 1},
		30*time.Second, ledger.StateAccepted)
	if ids, twice := createdOnce(env); ids != 1 || len(twice) > 0 || e.Relists != 0 {
		t.Errorf("%d external ids, created more than once: %v; relists left %d", ids, twice, e.Relists)
	}
}

// TestCreateAfterTheRelistsWaitsOutTheLag: the first create is made but its answer is lost, and the list
// misses the new file for six lists: the three lookups after it (lists 2–4) miss it, so the find-or-create
// that follows must wait out the list lag (lists 5–8) rather than create a second file at once.
func TestCreateAfterTheRelistsWaitsOutTheLag(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	subs := subscriptions("LAG6", 2)
	env.seedAssets(subs...)
	faults, err := connectemu.ParseFaults("commit-drop,list-lag:6")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.emu.SetFaults("files.create", faults...); err != nil {
		t.Fatal(err)
	}
	o := env.options()
	o.Retry = usageapi.RetryPolicy{MaxAttempts: 1, ListLag: testListLag}
	env.start(o)
	env.closePeriod(period(1), subs)
	e := env.waitState(ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: period(1).Start, Part: 1},
		30*time.Second, ledger.StateAccepted)
	if ids, twice := createdOnce(env); ids != 1 || len(twice) > 0 || e.Relists != 0 {
		t.Errorf("%d external ids, created more than once: %v; relists left %d", ids, twice, e.Relists)
	}
}

// TestFailedLookupIsNotACreateOfUnknownOutcome: every list fails (503), so no create is ever sent: the
// steps simply retry, without the lookups that follow a create of unknown outcome.
func TestFailedLookupIsNotACreateOfUnknownOutcome(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	subs := subscriptions("L503", 2)
	env.seedAssets(subs...)
	if err := env.emu.SetFaults("files.list", connectemu.Fault{Kind: connectemu.FaultStatus, Status: 503, Times: -1}); err != nil {
		t.Fatal(err)
	}
	o := env.options()
	o.Retry = usageapi.RetryPolicy{MaxAttempts: 1, ListLag: testListLag}
	env.start(o)
	env.closePeriod(period(1), subs)
	id := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: period(1).Start, Part: 1}
	var e *ledger.Entry
	waitFor(t, 30*time.Second, "two failed steps", func() bool { e = env.entry(id); return e != nil && e.Attempts >= 2 })
	if e.Relists != 0 || e.State != ledger.StatePlanned || len(env.emu.Files()) != 0 {
		t.Errorf("relists %d, state %s, %d files; want 0, planned, none", e.Relists, e.State, len(env.emu.Files()))
	}
}

// ignoreFilterTransport drops the external_id filter from every list of usage files, as a server that does
// not know the filter does (the emulator then answers every file), until it is fixed.
type ignoreFilterTransport struct{ fixed atomic.Bool }

var externalIDFilter = regexp.MustCompile(`eq\(external_id,[^)]*\)&?`)

func (tr *ignoreFilterTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !tr.fixed.Load() && r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/usage/files") {
		r = r.Clone(r.Context())
		r.URL.RawQuery = externalIDFilter.ReplaceAllString(r.URL.RawQuery, "")
	}
	return http.DefaultTransport.RoundTrip(r)
}

// createForeignFile creates, through the client, a file of the test product whose external id is not
// usagepipe's: what a lookup meets when Connect ignores the external_id filter.
func (env *testEnv) createForeignFile(t *testing.T) {
	t.Helper()
	client, err := usageapi.New(env.connectURL(), testAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateFile(context.Background(), usageapi.CreateFileRequest{Name: "by hand", Currency: "USD",
		Product: &usageapi.IDRef{ID: testProduct}, Contract: &usageapi.IDRef{ID: testContract}, ExternalID: "someone-else"}); err != nil {
		t.Fatal(err)
	}
}

// TestIgnoredFilterParksTheEntry: Connect ignores the external_id filter and lists a file of another
// external id; the entry is parked as filter_ignored at its first step, and nothing is created.
func TestIgnoredFilterParksTheEntry(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	subs := subscriptions("FILT", 2)
	env.seedAssets(subs...)
	env.createForeignFile(t)
	o := env.options()
	o.HTTPClient = &http.Client{Transport: &ignoreFilterTransport{}}
	env.start(o)
	env.closePeriod(period(1), subs)
	id := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: period(1).Start, Part: 1}
	e := env.waitState(id, 30*time.Second, ledger.StateFailed)
	if !strings.Contains(e.Reason, reasonFilterIgnored) || e.Attempts != 1 || len(env.emu.Files()) != 1 {
		t.Errorf("reason %q after %d attempts, %d files; want %s at once, only the hand-made file",
			e.Reason, e.Attempts, len(env.emu.Files()), reasonFilterIgnored)
	}
}

// TestListLagMustFitAStep: a list lag the find-or-create after the relists cannot wait out twice within a
// step (a quarter of the step timeout, half the lease) is refused; it would time out that step for ever.
func TestListLagMustFitAStep(t *testing.T) {
	o := Options{Catalog: testCatalog(t), ConnectURL: "http://127.0.0.1:1/public/v1", ConnectAPIKey: testAPIKey,
		LeaseTTL: 2 * time.Second}
	if _, err := New(nil, o); err == nil || !strings.Contains(err.Error(), "list lag 2s") {
		t.Fatalf("the default 2s list lag under 1s steps: %v, want refused", err)
	}
	o.Retry.ListLag = testListLag
	if _, err := New(nil, o); err != nil {
		t.Fatal(err)
	}
}
