package console_test

import (
	"context"
	"log/slog"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/devstack"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// TestActionsInBrowser drives the console's actions in a real headless Chromium against a usagepipe dev
// stack, as the operator of `usagepipe dev` (loopback, no key): two events of a product the catalog lacks are
// rejected and kept as unknown_product dead letters; the catalog is fixed (the stack restarts with it, the
// simulator on); once the events' period has closed, one letter is ticked, its replay previewed (adjust) and
// confirmed, and its supplementary file appears, accepted. Then a plan parked as records_missing: its retry is
// refused while the record misses, and once it is there, retried, planned again and accepted. Every action
// shows in the ledger with the operator's name.
func TestActionsInBrowser(t *testing.T) {
	b := newBrowser(t, 1280, 900)
	full := testCatalogs(t)
	dir := filepath.Join(t.TempDir(), "data")
	at := keptLetters(t, dir, full)

	o := stackOptions(t, dir, full)
	o.KeepRejected, o.PlanGrace = true, time.Second
	st, _ := startStack(t, o)
	base := strings.TrimSuffix(st.URLs().Console, "/")
	conn, err := bus.Connect(context.Background(), bus.Config{URL: st.URLs().NATS, Name: t.Name(), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	replayInBrowser(t, b, base, at)
	retryInBrowser(t, b, base, conn, full)
}

// keptLetters runs a stack whose catalog lacks the compute product, has ingest reject two of its events as
// unknown_product and keep them, and stops it; it returns the events' time.
func keptLetters(t *testing.T, dir string, full devstack.Catalogs) time.Time {
	t.Helper()
	broken := full
	var without []events.Product
	for _, p := range full.Pipeline.Products {
		if p.ID != compute {
			without = append(without, p)
		}
	}
	var err error
	if broken.Pipeline, err = events.NewCatalogWithRules(without, nil); err != nil {
		t.Fatal(err)
	}
	o := stackOptions(t, dir, broken)
	o.KeepRejected, o.Simulate = true, false
	st, stop := startStack(t, o)
	at := time.Now()
	r := post(t, st, usageEvent("dl-1", "CPU-HOURS", "1.5", at), usageEvent("dl-2", "API-CALLS", "1", at))
	if r.Rejected != 2 || r.Results[0].Reason != events.ReasonUnknownProduct {
		t.Fatalf("ingest answered %+v, want two unknown_product rejections", r)
	}
	stop()
	return at
}

// replayInBrowser replays dl-1's letter from the dead letters page and watches its supplementary file appear.
func replayInBrowser(t *testing.T, b *browser, base string, at time.Time) {
	t.Helper()
	b.open(base + "/deadletters?reason=unknown_product")
	list := b.waitText("#deadletters", `dl-1[\s\S]*dl-2|dl-2[\s\S]*dl-1`, true, 30*time.Second)
	if !regexp.MustCompile(`ingest\s+unknown_product\s+2\s+2`).MatchString(list) {
		t.Errorf("the counts by stage and reason:\n%s", list)
	}
	b.shot("dead-letters")
	// The events' period must be closed for the replay to make an adjustment (and a supplementary file).
	periods := base + "/periods?" + url.Values{"product": {compute}, "count": {"1"}, "before": {at.UTC().Format(time.RFC3339Nano)}}.Encode()
	b.open(periods)
	b.waitText("#periods", `closed`, true, 60*time.Second)

	b.open(base + "/deadletters?reason=unknown_product")
	if !eval[bool](b, `(function(){for (const tr of document.querySelectorAll("tr[data-letter]")) {
		if (tr.innerText.includes("dl-1")) { tr.querySelector("input[type=checkbox]").click(); return true } } return false})()`) {
		t.Fatal("no letter of dl-1 to tick")
	}
	b.follow("#preview-checked")
	preview := b.text("#preview")
	if !strings.Contains(preview, "1 open letters") || !regexp.MustCompile(`adjust\s+1`).MatchString(preview) || strings.Contains(preview, "dl-2") {
		t.Fatalf("the replay preview:\n%s", preview)
	}
	b.shot("replay-preview")
	b.follow("#confirm")
	done := b.text("#replayed")
	if !strings.Contains(done, "Replayed by loopback") || !regexp.MustCompile(`adjust\s+done`).MatchString(done) {
		t.Fatalf("the replay:\n%s", done)
	}
	b.shot("replayed")

	b.open(periods)
	b.waitText("#periods", `supplement 1\s+accepted`, true, 90*time.Second)
	b.follow(`#periods a.file[href*=".r1."]`)
	file := b.text("main")
	if !regexp.MustCompile(`Ledger state\s+accepted`).MatchString(file) || !strings.Contains(file, "supplement 1 (this file)") ||
		!regexp.MustCompile(`loopback \(console\)\s+replay\s+dlq-\d+[\s\S]*adjust \(ingest unknown_product\)`).MatchString(file) {
		t.Errorf("the supplementary file:\n%s", file)
	}
	b.shot("supplement")
	b.open(base + "/deadletters?state=all&reason=unknown_product")
	if got := b.text("#deadletters"); !regexp.MustCompile(`dl-1[\s\S]*replayed`).MatchString(got) || !regexp.MustCompile(`unknown_product\s+1\s+2`).MatchString(got) {
		t.Errorf("after the replay, the letters read:\n%s", got)
	}
	b.open(base + rowLink(b, "tr[data-letter]", "dl-1"))
	if log := b.text("main"); !strings.Contains(log, "dl-1") || !regexp.MustCompile(`By\s+loopback \(console\)`).MatchString(log) {
		t.Errorf("the replay log of dl-1's letter does not name the operator:\n%s", log)
	}
	b.open(base + "/explain?" + url.Values{"q": {"dl-1"}, "source": {"/browser-test"}, "subject": {computeAsset}}.Encode())
	got := b.waitText("main", `stored by the replay of dead letter dlq-\d+`, true, 30*time.Second)
	if !regexp.MustCompile(`dlq-\d+\s+unknown_product[\s\S]*loopback \(console\)`).MatchString(b.text("#letters-and-replays")) {
		t.Errorf("the explained event does not show its kept rejection and its replay by the operator:\n%s", got)
	}
	b.shot("explain-replayed")
}

// retryInBrowser parks a plan, has its retry refused while the cause shows, fixes it and retries it.
func retryInBrowser(t *testing.T, b *browser, base string, conn *bus.Conn, c devstack.Catalogs) {
	t.Helper()
	recs := missingRecords(t, c)
	e := parkPlan(t, conn, recs)
	b.open(base + "/parked")
	b.waitText("#parked", `records_missing`, true, 30*time.Second)
	b.shot("parked")
	b.follow(`tr[data-key="` + e.Key + `"] a`)
	b.fill("#note-retry", "first try")
	b.follow("#do-retry button")
	if got := b.text("#refusal"); !strings.Contains(got, "refused") || !strings.Contains(got, "marks count 2") {
		t.Errorf("a retry while the record misses:\n%s", got)
	}
	b.shot("retry-refused")

	publishRecord(t, conn, recs[1])
	b.fill("#note-retry", "record republished")
	b.follow("#do-retry button")
	if got := b.text("#result"); !strings.Contains(got, "retry done") {
		t.Fatalf("the retry:\n%s", got)
	}
	b.shot("retried")
	b.open(base + "/file?key=" + url.QueryEscape(e.Key))
	got := b.waitText("main", `Ledger state\s+accepted`, true, 60*time.Second)
	if !regexp.MustCompile(`retry\s+(parked|file)\.`).MatchString(got) || !strings.Contains(got, "loopback (console)") || !strings.Contains(got, "record republished") {
		t.Errorf("the period's action log does not show the retry by the operator:\n%s", got)
	}
	b.shot("retried-file")
}

// rowLink is the href of the first link of the first row (rows selects them) whose text contains text.
func rowLink(b *browser, rows, text string) string {
	b.t.Helper()
	href := eval[string](b, `(function(){for (const tr of document.querySelectorAll(`+strconv.Quote(rows)+`)) {
		if (tr.innerText.includes(`+strconv.Quote(text)+`)) { return tr.querySelector("a").getAttribute("href") } } return ""})()`)
	if href == "" {
		b.t.Fatalf("no row of %s reads %q", rows, text)
	}
	return href
}
