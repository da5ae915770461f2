package console_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/usagepipe/usagepipe/internal/console"
	"github.com/usagepipe/usagepipe/internal/deadletter"
	"github.com/usagepipe/usagepipe/internal/ledger"
)

// TestSignInAndActInBrowser drives a console that requires a key (a listener that is not loopback-only) in a
// real headless Chromium: a page sends the browser to the login form; a wrong key is refused; alice's key
// opens a session and brings her back to the page she asked for. An abandon whose CSRF token was tampered
// with is refused (403) and changes nothing; the same form with its token abandons the parked plan, recorded
// with her name. The replay of a letter the catalog still lacks is previewed as refused, with nothing to
// confirm. The action pages fit a phone's width. Signing out ends the session.
func TestSignInAndActInBrowser(t *testing.T) {
	b := newBrowser(t, 1280, 900)
	e := newConsoleEnv(t)
	letter, entry := e.targets()
	base := e.serve(console.Options{Refresh: time.Second}).URL

	signInInBrowser(t, b, base)
	entryPage := base + "/parked/entry?key=" + url.QueryEscape(entry.Key)
	forgedAbandon(t, b, e, entryPage, entry)
	abandonInBrowser(t, b, e, entryPage, entry)
	refusedReplayInBrowser(t, b, e, base, letter)

	b.viewport(390, 844)
	for name, u := range map[string]string{"deadletters": base + "/deadletters?state=all", "parked": base + "/parked?all=true", "parked-entry": entryPage} {
		b.open(u)
		b.noHorizontalScroll(name)
		b.shot(name + "-phone")
	}
	b.viewport(1280, 900)
	b.follow(".who button")
	if got := b.text("main"); !strings.Contains(got, "Operator key") {
		t.Errorf("after signing out:\n%s", got)
	}
	b.open(base + "/parked")
	if got := b.text("main"); !strings.Contains(got, "Operator key") {
		t.Errorf("the session outlived its sign-out:\n%s", got)
	}
}

// signInInBrowser is sent to the login form by the parked page, is refused a wrong key, and signs in as alice.
func signInInBrowser(t *testing.T, b *browser, base string) {
	t.Helper()
	b.open(base + "/parked")
	if got := b.text("main"); !strings.Contains(got, "Operator key") || !strings.Contains(eval[string](b, "location.pathname"), "/login") {
		t.Fatalf("a page without a key should show the login form:\n%s", got)
	}
	b.shot("login")
	b.fill("#key", "not-an-operator-key-000")
	b.follow(`form[action="/login"] button`)
	if got := b.text("main"); !strings.Contains(got, "This key is not an operator key.") {
		t.Errorf("a wrong key:\n%s", got)
	}
	b.fill("#key", aliceKey)
	b.follow(`form[action="/login"] button`)
	if path, who := eval[string](b, "location.pathname"), b.text(".who"); path != "/parked" || !strings.Contains(who, "alice") {
		t.Fatalf("after signing in: at %s as %q", path, who)
	}
	b.waitText("#parked", `records_missing`, true, 30*time.Second)
	b.shot("signed-in")
}

// forgedAbandon submits the abandon form with a tampered CSRF token: refused, and the entry unchanged.
func forgedAbandon(t *testing.T, b *browser, e *consoleEnv, page string, entry *ledger.Entry) {
	t.Helper()
	b.open(page)
	b.fill("#note-abandon", "forged")
	eval[bool](b, `(document.querySelector('#do-abandon input[name="csrf"]').value = "forged-token", true)`)
	b.follow("#do-abandon button")
	if got := b.text("main"); !strings.Contains(got, "403") || !strings.Contains(got, "CSRF token is missing or wrong") {
		t.Errorf("an abandon with a forged token:\n%s", got)
	}
	b.shot("csrf-refused")
	now, _, err := e.svc.Ledger.Get(context.Background(), entry.Key)
	if err != nil || now.State != entry.State || len(now.History) != len(entry.History) {
		t.Errorf("the entry after a forged abandon: %+v, %v", now, err)
	}
}

// abandonInBrowser abandons the entry with the form as served: done, and recorded with alice's name.
func abandonInBrowser(t *testing.T, b *browser, e *consoleEnv, page string, entry *ledger.Entry) {
	t.Helper()
	b.open(page)
	b.fill("#note-abandon", "test data, not billable")
	b.follow("#do-abandon button")
	got := b.text("main")
	if !strings.Contains(got, "abandon done") || !regexp.MustCompile(`test data, not billable\s+by alice \(console\)`).MatchString(got) {
		t.Errorf("the abandon:\n%s", got)
	}
	b.shot("abandoned")
	now, _, err := e.svc.Ledger.Get(context.Background(), entry.Key)
	if err != nil || now.State != ledger.StateAbandoned || now.History[len(now.History)-1].By != "alice (console)" {
		t.Errorf("the entry after the abandon: %+v, %v", now, err)
	}
}

// refusedReplayInBrowser previews the replay of a letter whose product the catalog still lacks: refused, so the
// preview offers nothing to confirm, and the letter stays open, never replayed (a dry run writes nothing).
func refusedReplayInBrowser(t *testing.T, b *browser, e *consoleEnv, base, letter string) {
	t.Helper()
	b.open(base + "/deadletters")
	b.waitText("#deadletters", regexp.QuoteMeta(letter), true, 30*time.Second)
	tickSurvivesRefresh(t, b, letter)
	b.follow("#preview-all")
	got := b.text("#preview")
	if !regexp.MustCompile(`refused\s+1`).MatchString(got) || !strings.Contains(got, "Nothing to publish") ||
		eval[bool](b, `!!document.querySelector("#confirm")`) {
		t.Fatalf("the preview of a replay the catalog cannot take:\n%s", got)
	}
	b.shot("replay-refused")
	b.open(base + "/explain?" + url.Values{"q": {"refused-1"}, "source": {"/browser-test"}, "subject": {computeAsset}}.Encode())
	if got := b.text("#event"); !regexp.MustCompile(`Ingested\s+failed[\s\S]*rejected by ingest \(unknown_product\)[\s\S]*kept as dead letter ` + regexp.QuoteMeta(letter)).MatchString(got) {
		t.Errorf("the explained rejected event:\n%s", got)
	}
	l, err := e.svc.DeadLetters.Show(context.Background(), letter)
	if err != nil || l.State != deadletter.StateOpen || l.Replay != nil {
		t.Errorf("the letter after its preview: %+v, %v", l, err)
	}
}

// tickSurvivesRefresh ticks a letter, moves the focus away, and waits for two refreshes of the page's live
// parts: the tick is still there (a part the operator changed is left alone).
func tickSurvivesRefresh(t *testing.T, b *browser, letter string) {
	t.Helper()
	box := `document.querySelector('tr[data-letter="` + letter + `"] input[type=checkbox]')`
	b.do(chromedp.Click(chromedp.CSS(`tr[data-letter="`+letter+`"] input[type=checkbox]`), chromedp.NodeVisible))
	eval[bool](b, `(document.activeElement.blur(), document.body.removeAttribute("data-refreshed"), true)`)
	for range 2 {
		b.waitJS("a refresh of the live parts", `document.body.getAttribute("data-refreshed")`, 20*time.Second)
		eval[bool](b, `(document.body.removeAttribute("data-refreshed"), true)`)
	}
	if !eval[bool](b, box+`.checked`) {
		t.Error("the live refresh undid the operator's tick")
	}
}
