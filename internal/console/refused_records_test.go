package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/console"
	"github.com/usagepipe/usagepipe/internal/deadletter"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
)

// TestRefusedRecordsShownAndResubmitted: a record of an asset the emulated Connect does not know is refused
// by Connect and dead-lettered (connect_invalid). The file's page shows it left out, its dead letter with
// Connect's words, and the file accepted with the other record. Once Connect knows the asset, alice previews
// the replay (resubmit), confirms it, and the period gets a supplementary file, accepted, whose page names her
// action.
func TestRefusedRecordsShownAndResubmitted(t *testing.T) {
	const unknown = "AS-1010-0000-0003"
	cats := testCatalogs(t)
	connect := *cats.Connect
	connect.Assets = slices.DeleteFunc(slices.Clone(connect.Assets), func(a connectemu.CatalogAsset) bool { return a.ID == unknown })
	cats.Connect = &connect
	e := newConsoleEnvWith(t, cats)
	srv := e.serve(console.Options{})
	alice := newClient(t, srv.URL)
	alice.signIn(aliceKey)

	refused := usageEvent("rr-2", "CPU-HOURS", "2.5", time.Now())
	refused.Subject = unknown
	if r := post(t, e.st, usageEvent("rr-1", "CPU-HOURS", "1.5", time.Now()), refused); r.Accepted != 2 {
		t.Fatalf("ingest: %+v", r)
	}
	var letter deadletter.Letter
	waitFor(t, "a connect_invalid dead letter", 90*time.Second, func() bool {
		l, err := e.svc.DeadLetters.List(context.Background(), deadletter.Filter{Reason: "connect_invalid", Open: true})
		if err == nil && len(l.Letters) == 1 {
			letter = l.Letters[0]
		}
		return letter.ID != ""
	})
	filePage := "/file?key=" + url.QueryEscape(letter.FileKey)
	var body string
	waitFor(t, "the file accepted, its refused record shown", 60*time.Second, func() bool {
		_, _, body = alice.do(http.MethodGet, filePage, nil)
		return strings.Contains(body, `badge good">accepted`) && strings.Contains(body, "Records Connect refused")
	})
	if !strings.Contains(body, "Records left out (dead-lettered)") || !strings.Contains(body, ">"+letter.ID+"<") ||
		!strings.Contains(html.UnescapeString(body), letter.Message) || letter.Message == "" {
		t.Errorf("the file page does not show the refused record with Connect's words (%q):\n%s", letter.Message, body)
	}

	if err := e.st.Emulator().AddAsset(connectemu.CatalogAsset{ID: unknown, Product: compute, ExternalID: "101003"}); err != nil {
		t.Fatal(err)
	}
	preview := "/deadletters/replay?reason=connect_invalid"
	_, _, body = alice.do(http.MethodGet, preview, nil)
	digest := regexp.MustCompile(`name="digest" value="([0-9a-f]+)"`).FindStringSubmatch(body)
	if !regexp.MustCompile(`resubmit</span> 1`).MatchString(body) || digest == nil {
		t.Fatalf("the replay preview:\n%s", body)
	}
	form := url.Values{"reason": {"connect_invalid"}, "digest": {digest[1]}, "csrf": {alice.csrf(preview)}}
	if status, _, body := alice.do(http.MethodPost, "/deadletters/replay", form); status != http.StatusOK || !strings.Contains(body, "Replayed by alice") {
		t.Fatalf("the replay: %d\n%s", status, body)
	}
	periods := "/periods?" + url.Values{"product": {compute}, "count": {"1"},
		"before": {letter.PeriodStart.Add(time.Nanosecond).Format(time.RFC3339Nano)}}.Encode()
	waitFor(t, "the supplementary file accepted", 90*time.Second, func() bool {
		_, _, body = alice.do(http.MethodGet, periods, nil)
		return regexp.MustCompile(`supplement 1</a>\s*<span class="badge good">accepted`).MatchString(body)
	})
	l, err := e.svc.DeadLetters.Show(context.Background(), letter.ID)
	if err != nil || l.State != deadletter.StateReplayed || l.Replay.Actor.Name != "alice" {
		t.Errorf("the letter after its replay: %+v, %v", l, err)
	}
}
