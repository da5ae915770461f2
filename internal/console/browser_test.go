package console_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// The browser tests drive a real headless Chromium (Debian's chromium; .ci/run installs it). Without one
// they are skipped, unless CI=1 or USAGEPIPE_REQUIRE_BROWSER=1 is set (.ci/run sets it), which makes them fail:
// CI cannot pass without having run them.

// browserRequired says whether a missing Chromium fails the browser tests rather than skipping them.
func browserRequired() bool {
	return os.Getenv("CI") == "1" || os.Getenv("CI") == "true" || os.Getenv("USAGEPIPE_REQUIRE_BROWSER") == "1"
}

// chromiumPath finds Chromium: $USAGEPIPE_CHROMIUM, or chromium, chromium-browser, google-chrome on the PATH.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("USAGEPIPE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if browserRequired() {
		t.Fatal("no Chromium found (CI or USAGEPIPE_REQUIRE_BROWSER is set): apt-get install -y chromium, or set USAGEPIPE_CHROMIUM")
	}
	t.Skip("no Chromium found: apt-get install -y chromium (or set USAGEPIPE_CHROMIUM) to run the browser tests")
	return ""
}

// artifactsDir is where the browser tests put their screenshots: $USAGEPIPE_TEST_ARTIFACTS, else
// .artifacts/console at the repository's root (ignored by git), one folder per test.
func artifactsDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("USAGEPIPE_TEST_ARTIFACTS")
	if root == "" {
		root = filepath.Join("..", "..", ".artifacts")
	}
	dir := filepath.Join(root, "console", strings.ReplaceAll(t.Name(), "/", "-"))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser is one tab of a headless Chromium.
type browser struct {
	t     *testing.T
	ctx   context.Context
	dir   string // screenshots go here
	shots int
}

// newBrowser starts Chromium (the flags this machine needs: no sandbox as root, no background networking, a
// fresh profile) with one tab of width × height, stopped at the end of the test.
func newBrowser(t *testing.T, width, height int64) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(chromiumPath(t)), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(int(width), int(height))}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	// The first action starts the browser, which lives as long as the context of that call: no timeout on it.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	b := &browser{t: t, ctx: ctx, dir: artifactsDir(t)}
	return b
}

// viewport changes the tab's size (a phone: 390 × 844).
func (b *browser) viewport(width, height int64) { b.do(chromedp.EmulateViewport(width, height)) }

// noScript turns the page's JavaScript off (or on again) from the next page on.
func (b *browser) noScript(off bool) {
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: off})
		return err
	}))
}

// do runs actions, failing the test on an error.
func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression and returns its value.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("browser: %s: %v", expr, err)
	}
	return v
}

// open loads url and waits for it.
func (b *browser) open(url string) {
	b.t.Helper()
	b.do(chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
}

// text is the visible text of the first element sel selects ("" when none does).
func (b *browser) text(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(function(){var e=document.querySelector(%q);return e?e.innerText:""})()`, sel))
}

// follow clicks the element sel selects and waits until the page it leads to has loaded.
func (b *browser) follow(sel string) {
	b.t.Helper()
	eval[bool](b, `(window.__old = true)`)
	b.do(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	b.waitJS("the page after clicking "+sel, `window.__old === undefined && document.readyState === "complete"`, 60*time.Second)
}

// fill types v into the field sel selects, after clearing it.
func (b *browser) fill(sel, v string) {
	b.t.Helper()
	if !eval[bool](b, fmt.Sprintf(`(function(){var e=document.querySelector(%q);if(!e){return false};e.value="";return true})()`, sel)) {
		b.t.Fatalf("no field %s", sel)
	}
	b.do(chromedp.SendKeys(chromedp.CSS(sel), v))
}

// waitJS polls a JavaScript condition until it holds (every 200 ms, at most timeout).
func (b *browser) waitJS(what, cond string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for !eval[bool](b, "!!("+cond+")") {
		if time.Now().After(deadline) {
			b.shot("timeout")
			b.t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitText waits until the text of sel matches the regular expression re, reloading the page every few
// seconds when reload is set (otherwise the page's own live refresh must bring it); it returns the text.
func (b *browser) waitText(sel, re string, reload bool, timeout time.Duration) string {
	b.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	for last := time.Now(); ; time.Sleep(250 * time.Millisecond) {
		if s := b.text(sel); rx.MatchString(s) {
			return s
		}
		if time.Now().After(deadline) {
			b.shot("timeout")
			b.t.Fatalf("timed out after %v waiting for %s to match %q; it reads:\n%s", timeout, sel, re, b.text(sel))
		}
		if reload && time.Since(last) > 3*time.Second {
			b.do(chromedp.Reload(), chromedp.WaitReady(chromedp.CSS("body")))
			last = time.Now()
		}
	}
}

// shot saves a screenshot of the whole page as <dir>/<n>-<name>.png and returns its path.
func (b *browser) shot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	b.shots++
	path := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.shots, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
	}
	return path
}

// noHorizontalScroll checks that the page is not wider than the viewport (tables scroll inside their box).
func (b *browser) noHorizontalScroll(page string) {
	b.t.Helper()
	w := eval[[]int](b, `[document.documentElement.scrollWidth, window.innerWidth]`)
	if w[0] > w[1] {
		b.t.Errorf("%s at %d px: the page is %d px wide", page, w[1], w[0])
	}
}
