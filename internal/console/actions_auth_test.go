package console_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/console"
	"github.com/usagepipe/usagepipe/internal/deadletter"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// TestActionsRefusedWithoutKeyOrCSRF: every action of the console (its POST routes, all of them) is refused
// without an operator key outside the loopback (401), and without its CSRF token or with another browser's
// (403) — on the open loopback of usagepipe dev too — and nothing changes: the dead letter is not replayed,
// the parked entry is neither retried, resubmitted nor abandoned, the session is not ended. The same abandon
// with the token is done, and recorded with the operator's name.
func TestActionsRefusedWithoutKeyOrCSRF(t *testing.T) {
	e := newConsoleEnv(t)
	letter, entry := e.targets()
	srv := e.serve(console.Options{AllowLoopback: true}) // a wide listener: the loopback exception does not apply
	open := e.serve(console.Options{AllowLoopback: true, Listener: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}})
	c, err := console.New(e.svc, console.Options{})
	if err != nil {
		t.Fatal(err)
	}
	paths := c.ActionPaths()
	if len(paths) < 5 {
		t.Fatalf("action paths %v", paths)
	}
	alice, other := newClient(t, srv.URL), newClient(t, srv.URL)
	alice.signIn(aliceKey)
	other.signIn(bobKey)
	stranger, local := newClient(t, srv.URL), newClient(t, open.URL)
	local.do(http.MethodGet, "/", nil) // a CSRF cookie, but no token sent
	for _, p := range paths {
		form := actionForm(p, letter, entry.Key)
		if status, _, _ := stranger.do(http.MethodPost, p, withToken(form, "")); status != http.StatusUnauthorized {
			t.Errorf("POST %s without a key: %d, want 401", p, status)
		}
		if status, _, _ := alice.do(http.MethodPost, p, form); status != http.StatusForbidden {
			t.Errorf("POST %s by alice without the CSRF token: %d, want 403", p, status)
		}
		if status, _, _ := alice.do(http.MethodPost, p, withToken(form, other.csrf("/"))); status != http.StatusForbidden {
			t.Errorf("POST %s by alice with bob's CSRF token: %d, want 403", p, status)
		}
		if status, _, _ := local.do(http.MethodPost, p, form); status != http.StatusForbidden {
			t.Errorf("POST %s on the open loopback without the CSRF token: %d, want 403", p, status)
		}
	}
	e.unchanged(letter, entry, alice)
	e.abandonWithToken(alice, entry)
}

// actionForm is a form that would act on the targets: every field any action reads.
func actionForm(path, letter, key string) url.Values {
	f := url.Values{"key": {key}, "note": {"should not happen"}, "id": {letter}, "reason": {"unknown_product"}}
	if path == "/deadletters/replay" {
		f.Set("digest", "x")
	}
	return f
}

func withToken(f url.Values, token string) url.Values {
	g := url.Values{}
	for k, v := range f {
		g[k] = v
	}
	g.Set("csrf", token)
	return g
}

// targets makes what the actions would act on: a kept unknown_product dead letter, and a parked plan.
func (e *consoleEnv) targets() (string, *ledger.Entry) {
	e.t.Helper()
	ev := usageEvent("refused-1", "CPU-HOURS", "1", time.Now())
	ev.Data.Product = "PRD-000-000-000"
	if r := post(e.t, e.st, ev); r.Rejected != 1 || r.Results[0].Reason != events.ReasonUnknownProduct {
		e.t.Fatalf("ingest: %+v", r)
	}
	var id string
	waitFor(e.t, "the kept letter", 10*time.Second, func() bool {
		l, err := e.svc.DeadLetters.List(context.Background(), deadletter.Filter{Open: true})
		if err == nil && len(l.Letters) == 1 {
			id = l.Letters[0].ID
		}
		return id != ""
	})
	return id, parkPlan(e.t, e.conn, missingRecords(e.t, e.st.Catalogs()))
}

// unchanged checks that nothing was done: the letter open and never replayed, the entry as parked, no action
// logged, alice's session alive.
func (e *consoleEnv) unchanged(letter string, entry *ledger.Entry, alice *client) {
	e.t.Helper()
	ctx := context.Background()
	l, err := e.svc.DeadLetters.Show(ctx, letter)
	if err != nil || l.State != deadletter.StateOpen || l.Replay != nil {
		e.t.Errorf("the dead letter after refused replays: %+v, %v", l, err)
	}
	now, _, err := e.svc.Ledger.Get(ctx, entry.Key)
	if err != nil || now.State != entry.State || len(now.History) != len(entry.History) {
		e.t.Errorf("the parked entry after refused actions: %+v, %v", now, err)
	}
	if acts, err := e.svc.Ledger.Actions(ctx, compute, computeContract, entry.PeriodStart); err != nil || len(acts) != 0 {
		e.t.Errorf("actions logged: %+v, %v", acts, err)
	}
	if status, _, _ := alice.do(http.MethodGet, "/", nil); status != http.StatusOK {
		e.t.Errorf("alice's session after refused sign-outs: %d", status)
	}
}

// abandonWithToken abandons the entry as alice with her token: done, and recorded with her name.
func (e *consoleEnv) abandonWithToken(alice *client, entry *ledger.Entry) {
	e.t.Helper()
	page := "/parked/entry?key=" + url.QueryEscape(entry.Key)
	form := url.Values{"key": {entry.Key}, "note": {"not billable: test data"}, "csrf": {alice.csrf(page)}}
	status, _, body := alice.do(http.MethodPost, "/parked/abandon", form)
	if status != http.StatusOK || !strings.Contains(body, "abandon done") {
		e.t.Fatalf("abandon with the token: %d\n%.600s", status, body)
	}
	acts, err := e.svc.Ledger.Actions(context.Background(), compute, computeContract, entry.PeriodStart)
	if err != nil || len(acts) != 1 || acts[0].Actor != (ledger.Actor{Name: "alice", Via: "console"}) || acts[0].Action != "abandon" {
		e.t.Errorf("the action log: %+v, %v", acts, err)
	}
	now, _, err := e.svc.Ledger.Get(context.Background(), entry.Key)
	if err != nil || now.State != ledger.StateAbandoned || now.History[len(now.History)-1].By != "alice (console)" {
		e.t.Errorf("the entry after the abandon: %+v, %v", now, err)
	}
}
