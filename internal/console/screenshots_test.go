package console_test

import (
	"bytes"
	"context"
	"image/png"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/devstack"
)

// docsImages is where the README's screenshots of the console live, from this package.
const docsImages = "../../docs/console"

// TestScreenshots takes the pictures of the console's main pages that docs/console holds (the README shows
// them), at 1280 × 900 — and the overview at a phone's width — from a fresh dev stack with the simulator: the
// overview while all is well, an event explained once it is in an accepted file, the periods, that file, a
// subscription; then a kept dead letter and a parked plan, made on purpose, on the dead letters page, a replay
// preview, the parked page and the parked entry with its actions. Each page is checked for its text before it
// is taken. With UPDATE_SCREENSHOTS=1 they are written to docs/console (`scripts/screenshots`); otherwise only
// to the artifacts folder.
func TestScreenshots(t *testing.T) {
	b := newBrowser(t, 1280, 900)
	o := stackOptions(t, t.TempDir(), testCatalogs(t))
	o.KeepRejected, o.PlanGrace = true, time.Second
	st, _ := startStack(t, o)
	base := st.URLs().Console
	shots := map[string][]byte{}
	if r := post(t, st, usageEvent("readme-1", "CPU-HOURS", "2.5", time.Now())); r.Accepted != 1 {
		t.Fatalf("ingest: %+v", r)
	}

	b.open(base + "explain?" + url.Values{"q": {"readme-1"}, "source": {"/browser-test"}, "subject": {computeAsset}}.Encode())
	b.waitText("#event", `Accepted\s+done`, true, 90*time.Second)
	shots["explain"] = b.capture("explain")
	b.follow(`#event a[href^="/file?"]`)
	b.waitText("#file-state", `Ledger state\s+accepted`, false, 10*time.Second)
	shots["file"] = b.capture("file")

	b.open(base)
	b.waitText(".tiles", `^0\s+problems\s*\n`, true, 90*time.Second) // and no warning either
	b.waitText("#services", `aggregator[\s\S]*ingest[\s\S]*submitter`, true, 30*time.Second)
	shots["overview"] = b.capture("overview")
	b.viewport(390, 844)
	b.open(base)
	shots["overview-phone"] = b.capture("overview-phone")
	b.viewport(1280, 900)

	b.open(base + "periods?product=" + compute + "&count=6")
	b.waitText("#periods", `closed\s+reported\s+2 of 2[\s\S]*accepted`, true, 30*time.Second)
	shots["periods"] = b.capture("periods")
	b.open(base + "subscription?id=" + computeAsset)
	b.waitText("main", `Open periods[\s\S]*Last closed periods`, true, 30*time.Second)
	shots["subscription"] = b.capture("subscription")

	troubleShots(t, b, st, shots)
	if os.Getenv("UPDATE_SCREENSHOTS") == "" {
		return
	}
	for name, img := range shots {
		if err := os.WriteFile(filepath.Join(docsImages, name+".png"), img, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// troubleShots makes a dead letter (an event of a product no catalog has, kept by ingest) and a parked plan
// (records_missing), and takes the pages where an operator acts on them.
func troubleShots(t *testing.T, b *browser, st *devstack.Stack, shots map[string][]byte) {
	t.Helper()
	base := st.URLs().Console
	conn, err := bus.Connect(context.Background(), bus.Config{URL: st.URLs().NATS, Name: t.Name(), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stray := usageEvent("stray-1", "CPU-HOURS", "4", time.Now())
	stray.Data.Product = "PRD-999-999-999"
	if r := post(t, st, stray); r.Rejected != 1 {
		t.Fatalf("ingest: %+v", r)
	}
	b.open(base + "deadletters")
	b.waitText("#deadletters", `ingest\s+unknown_product\s+1\s+1[\s\S]*PRD-999-999-999`, true, 30*time.Second)
	shots["deadletters"] = b.capture("deadletters")
	b.follow("#preview-all")
	if got := b.text("#preview"); !regexp.MustCompile(`refused\s+1`).MatchString(got) {
		t.Fatalf("the replay preview:\n%s", got)
	}
	shots["replay-preview"] = b.capture("replay-preview")

	e := parkPlan(t, conn, missingRecords(t, testCatalogs(t)))
	b.open(base + "parked")
	b.waitText("#parked", `records_missing`, true, 30*time.Second)
	shots["parked"] = b.capture("parked")
	b.follow(`tr[data-key="` + e.Key + `"] a`)
	b.waitText("main", `Resolve it[\s\S]*retry as loopback`, false, 10*time.Second)
	shots["parked-entry"] = b.capture("parked-entry")
}

// capture takes a PNG of the viewport, saves it as an artifact and returns it, encoded again with the best
// compression (the committed pictures stay small).
func (b *browser) capture(name string) []byte {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		b.t.Fatalf("screenshot %s is no PNG: %v", name, err)
	}
	var out bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, img); err != nil {
		b.t.Fatal(err)
	}
	b.shots++
	if err := os.WriteFile(filepath.Join(b.dir, name+".png"), out.Bytes(), 0o644); err != nil {
		b.t.Fatal(err)
	}
	return out.Bytes()
}
