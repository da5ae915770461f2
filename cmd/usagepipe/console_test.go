package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/pipelinetest"
)

// TestConsoleCommand: `usagepipe console` over a running pipeline prints its URL once it listens; a browser
// without a key is sent to the login form; an operator's key (Bearer) reads the overview, which names the
// operator and the services alive, and an explained event to its Connect file; an action without the CSRF
// token is refused. Without a key and without --operator-allow-loopback it refuses to start (nobody could
// use it); on a non-loopback address without keys too.
func TestConsoleCommand(t *testing.T) {
	w := pipelinetest.Start(t, 4)
	w.StartAggregator("a1")
	w.StartSubmitter("s1")
	t0 := time.Now().UTC()
	e := pipelinetest.Event("console-1", pipelinetest.FastProduct, "AS-0500-0000-0001", "UNITS", "2.5", t0)
	w.Publish(e)
	w.WaitAccepted(pipelinetest.FastProduct, t0, 0, 60*time.Second) // and the fold configuration committed
	vars := map[string]string{"USAGEPIPE_NATS_URL": w.NATS.URL(), "USAGEPIPE_CONNECT_URL": w.ConnectURL,
		"USAGEPIPE_CONNECT_API_KEY": pipelinetest.APIKey}
	for _, args := range [][]string{{"--addr", "127.0.0.1:0"}, {"--addr", "0.0.0.0:0", "--operator-allow-loopback"}} {
		err := run(context.Background(), append([]string{"console"}, args...), func(k string) string { return vars[k] }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "invalid configuration") {
			t.Errorf("console %v without keys: %v", args, err)
		}
	}
	vars["USAGEPIPE_OPERATOR_KEYS"] = "alice=alice-key-0123456789"
	env := func(k string) string { return vars[k] }

	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"console", "--addr", "127.0.0.1:0"}, env, out) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("console: %v", err)
		}
	}()
	ready := regexp.MustCompile(`console ready (http://127\.0\.0\.1:\d+/) \(operator keys of alice\)`)
	w.WaitFor(30*time.Second, "the console's URL", func() bool { return ready.MatchString(out.String()) })
	base := ready.FindStringSubmatch(out.String())[1]

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if status, body := getPage(t, noRedirect, base, ""); status != http.StatusSeeOther {
		t.Errorf("without a key: %d\n%.300s", status, body)
	}
	if status, body := getPage(t, noRedirect, base, "alice-key-0123456789"); status != http.StatusOK ||
		!strings.Contains(body, ">alice<") || !strings.Contains(body, "services alive") {
		t.Errorf("the overview with alice's key: %d\n%.500s", status, body)
	}
	explain := base + "explain?" + url.Values{"q": {e.ID}, "source": {e.Source}, "subject": {e.Subject}}.Encode()
	var body string
	w.WaitFor(60*time.Second, "the event explained to its accepted file", func() bool {
		_, body = getPage(t, noRedirect, explain, "alice-key-0123456789")
		return regexp.MustCompile(`Connect file UF-\d{4}-\d{2}-\d{4}-\d{4}`).MatchString(body) && strings.Contains(body, "Connect status accepted")
	})
	req, _ := http.NewRequest(http.MethodPost, base+"parked/abandon", strings.NewReader("key=x&note=y"))
	req.Header.Set("Authorization", "Bearer alice-key-0123456789")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("an action without the CSRF token: %d", resp.StatusCode)
	}
}

// getPage reads u, with an operator key when key is set, and returns the status and body.
func getPage(t *testing.T, c *http.Client, u, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
