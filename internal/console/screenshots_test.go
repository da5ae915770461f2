package console_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// readmeImages is where the README's screenshots live, from this package.
const readmeImages = "../../docs/images"

// TestScreenshots takes the README's pictures of the console — the overview and an explained event, at
// 1280 px — from a fresh dev stack with the simulator, once the event is in an accepted file. With
// UPDATE_SCREENSHOTS=1 it writes them to docs/images (refresh them with
// `UPDATE_SCREENSHOTS=1 go test ./internal/console/ -run TestScreenshots`); otherwise to the artifacts folder.
func TestScreenshots(t *testing.T) {
	b := newBrowser(t, 1280, 860)
	st, _ := startStack(t, stackOptions(t, t.TempDir(), testCatalogs(t)))
	base := st.URLs().Console
	if r := post(t, st, usageEvent("readme-1", "CPU-HOURS", "2.5", time.Now())); r.Accepted != 1 {
		t.Fatalf("ingest: %+v", r)
	}
	b.open(base + "explain?q=readme-1&source=/browser-test&subject=" + computeAsset)
	b.waitText("#event", `Accepted\s+done`, true, 90*time.Second)
	explain := b.capture("explain", true)

	b.open(base)
	calm := `^0\s+problems` // and, for the README's picture, no warning either
	if os.Getenv("UPDATE_SCREENSHOTS") != "" {
		calm += `\s*\n`
	}
	b.waitText(".tiles", calm, true, 90*time.Second)
	b.waitText("#services", `aggregator[\s\S]*ingest[\s\S]*submitter`, true, 30*time.Second)
	overview := b.capture("overview", false)
	if os.Getenv("UPDATE_SCREENSHOTS") == "" {
		return
	}
	for name, png := range map[string][]byte{"console-overview.png": overview, "console-explain.png": explain} {
		if err := os.WriteFile(filepath.Join(readmeImages, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// capture takes a PNG of the page (whole, or the viewport), saves it as an artifact and returns it.
func (b *browser) capture(name string, whole bool) []byte {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	shot := chromedp.CaptureScreenshot()
	if whole {
		shot = chromedp.FullScreenshot(100)
	}
	png, err := chromedp.Run(ctx, shot)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	b.shots++
	if err := os.WriteFile(filepath.Join(b.dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	return png
}
