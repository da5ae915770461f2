package console_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestConsoleInBrowser drives the console of a usagepipe dev stack, with the simulator, in a real headless
// Chromium, as a billing operator would: the overview; a period followed to its accepted file; an event
// searched by its id to its Connect file; every read page at a phone's width and without JavaScript. Each step
// asserts on the page's text and leaves a screenshot in the artifacts folder.
func TestConsoleInBrowser(t *testing.T) {
	b := newBrowser(t, 1280, 900)
	st, _ := startStack(t, stackOptions(t, t.TempDir(), testCatalogs(t)))
	base := strings.TrimSuffix(st.URLs().Console, "/")
	at := time.Now()
	if r := post(t, st, usageEvent("bt-1", "CPU-HOURS", "1.25", at)); r.Accepted != 1 {
		t.Fatalf("ingest: %+v", r)
	}

	b.open(base + "/")
	overview := b.text("main")
	for _, want := range []string{"Overview", "services alive", "partitions owned", "periods due", "parked", "dead letters", "Services"} {
		if !strings.Contains(overview, want) {
			t.Errorf("the overview lacks %q:\n%s", want, overview)
		}
	}
	b.shot("overview")

	file := followPeriodToFile(t, b, base)
	explainEvent(t, b, base, "bt-1")
	readableEverywhere(t, b, base, file)
}

// followPeriodToFile opens the periods of the first product, waits — without reloading: the page refreshes
// its live part — for a reported period, and follows it to its accepted file; it returns the file page's URL.
func followPeriodToFile(t *testing.T, b *browser, base string) string {
	t.Helper()
	b.open(base + "/periods?product=" + compute)
	eval[bool](b, "(window.__samePage = true)")
	b.waitJS("a reported period", `document.querySelector('tr[data-reported="true"] a.file')`, 90*time.Second)
	if !eval[bool](b, "window.__samePage === true") {
		t.Error("the periods page was reloaded: its live part should have been refreshed in place")
	}
	row := b.text(`tr[data-reported="true"]`)
	if !regexp.MustCompile(`closed\s+reported\s+2 of 2`).MatchString(row) || !strings.Contains(row, "accepted") {
		t.Errorf("a reported period reads:\n%s", row)
	}
	b.shot("periods")
	b.follow(`tr[data-reported="true"] a.file`)
	state := b.text("#file-state")
	if !regexp.MustCompile(`Ledger state\s+accepted`).MatchString(state) || !regexp.MustCompile(`UF-\d{4}-\d{2}-\d{4}-\d{4}\s+· now\s+accepted`).MatchString(state) {
		t.Errorf("the file page reads:\n%s", state)
	}
	if h := b.text("#records"); !strings.Contains(h, "UR-") || !strings.Contains(h, "approved") {
		t.Errorf("the file's records:\n%s", h)
	}
	b.shot("file")
	return eval[string](b, "location.href")
}

// explainEvent searches an event by its source and id and waits for its timeline to reach "Accepted".
func explainEvent(t *testing.T, b *browser, base, id string) {
	t.Helper()
	b.open(base + "/explain")
	b.fill(`input[name="q"]`, id)
	b.fill(`input[name="source"]`, "/browser-test")
	b.fill(`input[name="subject"]`, computeAsset)
	b.follow(`form.search button[type="submit"]`)
	got := b.waitText("#event", `Accepted\s+done`, true, 90*time.Second)
	for _, want := range []string{"Ingested", "1.25 of CPU-HOURS for " + computeAsset, "Stored", "Counted", "Closed", "In a file", "Connect file UF-",
		"Connect record UR-"} {
		if !strings.Contains(got, want) {
			t.Errorf("the explained event lacks %q:\n%s", want, got)
		}
	}
	if !strings.Contains(got, "CET") && !strings.Contains(got, "CEST") {
		t.Errorf("the timeline shows no time in the product's zone (%s):\n%s", zone, got)
	}
	b.shot("explain")
}

// readableEverywhere opens every read page at a phone's width (no page wider than the screen) and without
// JavaScript (the page is whole).
func readableEverywhere(t *testing.T, b *browser, base, file string) {
	t.Helper()
	pages := map[string]string{
		"overview": base + "/", "periods": base + "/periods", "file": file,
		"subscription": base + "/subscription?id=" + computeAsset,
		"explain":      base + "/explain?" + url.Values{"q": {"bt-1"}, "source": {"/browser-test"}, "subject": {computeAsset}}.Encode(),
	}
	want := map[string]string{"overview": "services alive", "periods": "reported", "file": "Ledger history",
		"subscription": "Last closed periods", "explain": "Accepted"}
	b.viewport(390, 844)
	for name, u := range pages {
		b.open(u)
		b.noHorizontalScroll(name)
		b.shot(name + "-phone")
	}
	b.viewport(1280, 900)
	b.noScript(true)
	for name, u := range pages {
		b.open(u)
		if got := b.text("main"); !strings.Contains(got, want[name]) {
			t.Errorf("%s without JavaScript lacks %q:\n%s", name, want[name], got)
		}
	}
	b.noScript(false)
}
