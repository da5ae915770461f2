package console_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/console"
	"github.com/usagepipe/usagepipe/internal/devstack"
	"github.com/usagepipe/usagepipe/internal/opsapi"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

const (
	aliceKey = "alice-key-0123456789"
	bobKey   = "bob-key-abcdefghijkl"
)

// wide is a listener address that is not loopback-only: a console there serves nobody without a key.
var wide = &net.TCPAddr{IP: net.IPv4zero, Port: 8071}

// consoleEnv is a console over a dev stack's services (no simulator), served by httptest, with alice's and
// bob's keys.
type consoleEnv struct {
	t    *testing.T
	st   *devstack.Stack
	svc  console.Services
	conn *bus.Conn
}

func newConsoleEnv(t *testing.T) *consoleEnv {
	t.Helper()
	return newConsoleEnvWith(t, testCatalogs(t))
}

// newConsoleEnvWith is newConsoleEnv in the world cats.
func newConsoleEnvWith(t *testing.T, cats devstack.Catalogs) *consoleEnv {
	t.Helper()
	o := stackOptions(t, t.TempDir(), cats)
	o.Simulate, o.KeepRejected, o.PlanGrace = false, true, time.Second
	st, _ := startStack(t, o)
	conn, err := bus.Connect(context.Background(), bus.Config{URL: st.URLs().NATS, Name: "console-test", Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	client, err := usageapi.New(st.URLs().Connect, devstack.DefaultConnectAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := console.NewServices(context.Background(), conn, opsapi.ReadConfig{Catalog: st.Catalogs().Pipeline, Partitions: 2, Connect: client})
	if err != nil {
		t.Fatal(err)
	}
	return &consoleEnv{t: t, st: st, svc: svc, conn: conn}
}

// serve serves a console with alice's and bob's keys and o (Listener: wide unless set).
func (e *consoleEnv) serve(o console.Options) *httptest.Server {
	e.t.Helper()
	keys, err := opsapi.LoadKeys("", "alice="+aliceKey+",bob="+bobKey)
	if err != nil {
		e.t.Fatal(err)
	}
	o.Keys = keys
	if o.Listener == nil {
		o.Listener = wide
	}
	c, err := console.New(e.svc, o)
	if err != nil {
		e.t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	e.t.Cleanup(srv.Close)
	return srv
}

// client is a browser: a cookie jar, no redirects followed.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// do sends a request (a form when form is not nil) with the headers given, and returns the status, the
// Location and the body.
func (c *client) do(method, path string, form url.Values, header ...string) (int, string, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

var csrfPattern = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the CSRF token of the forms of the page at path.
func (c *client) csrf(path string) string {
	c.t.Helper()
	status, _, body := c.do(http.MethodGet, path, nil)
	m := csrfPattern.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("GET %s: %d, no CSRF token in the page:\n%.400s", path, status, body)
	}
	return m[1]
}

// signIn signs in with key through the login form.
func (c *client) signIn(key string) {
	c.t.Helper()
	token := c.csrf("/login")
	if status, loc, body := c.do(http.MethodPost, "/login", url.Values{"key": {key}, "csrf": {token}, "next": {"/periods"}}); status != http.StatusSeeOther || loc != "/periods" {
		c.t.Fatalf("sign in: %d → %q\n%.400s", status, loc, body)
	}
}

// TestSignInSessionAndSignOut: a page sends a stranger to the login form; a wrong key, or a form without its
// CSRF token, opens no session; the right key does (an HttpOnly, SameSite=Strict cookie) and names the
// operator on every page; signing out needs the token and ends the session.
func TestSignInSessionAndSignOut(t *testing.T) {
	e := newConsoleEnv(t)
	srv := e.serve(console.Options{})
	c := newClient(t, srv.URL)
	if status, loc, _ := c.do(http.MethodGet, "/periods?product=x", nil); status != http.StatusSeeOther || loc != "/login?next=%2Fperiods%3Fproduct%3Dx" {
		t.Fatalf("a page without a key: %d → %q", status, loc)
	}
	token := c.csrf("/login")
	if status, _, body := c.do(http.MethodPost, "/login", url.Values{"key": {"not-a-key-0123456789"}, "csrf": {token}}); status != http.StatusUnauthorized || !strings.Contains(body, "not an operator key") {
		t.Errorf("a wrong key: %d\n%.300s", status, body)
	}
	if status, _, _ := c.do(http.MethodPost, "/login", url.Values{"key": {aliceKey}}); status != http.StatusForbidden {
		t.Errorf("a sign-in without the CSRF token: %d", status)
	}
	if status, loc, _ := c.do(http.MethodGet, "/", nil); status != http.StatusSeeOther {
		t.Fatalf("no session should be open yet: %d → %q", status, loc)
	}
	c.signIn(aliceKey)
	checkSessionCookie(t, c, srv.URL)
	status, _, body := c.do(http.MethodGet, "/", nil)
	if status != http.StatusOK || !strings.Contains(body, ">alice<") || !strings.Contains(body, "services alive") {
		t.Fatalf("the overview after signing in: %d\n%.500s", status, body)
	}
	if status, _, _ := c.do(http.MethodPost, "/logout", url.Values{}); status != http.StatusForbidden {
		t.Errorf("sign out without the CSRF token: %d", status)
	}
	if status, loc, _ := c.do(http.MethodPost, "/logout", url.Values{"csrf": {c.csrf("/")}}); status != http.StatusSeeOther || loc != "/login" {
		t.Errorf("sign out: %d → %q", status, loc)
	}
	if status, _, _ := c.do(http.MethodGet, "/", nil); status != http.StatusSeeOther {
		t.Errorf("the session outlived its sign-out: %d", status)
	}
}

func checkSessionCookie(t *testing.T, c *client, base string) {
	t.Helper()
	u, _ := url.Parse(base)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "usagepipe_session" && len(ck.Value) >= 43 {
			return
		}
	}
	t.Fatal("no session cookie after signing in")
}

// TestKeysTokensAndOrigins: a Bearer key is an operator's without a session, a wrong one is refused; the
// loopback is open only with AllowLoopback on a loopback listener; a CSRF token is good only for its own
// browser and operator; a POST from another origin or site is refused; after signing in, only local paths
// are followed.
func TestKeysTokensAndOrigins(t *testing.T) {
	e := newConsoleEnv(t)
	srv := e.serve(console.Options{AllowLoopback: true}) // a wide listener: the loopback is not open
	c := newClient(t, srv.URL)
	if status, _, body := c.do(http.MethodGet, "/", nil, "Authorization", "Bearer "+bobKey); status != http.StatusOK || !strings.Contains(body, ">bob<") {
		t.Errorf("bob's key: %d", status)
	}
	if status, _, _ := c.do(http.MethodGet, "/", nil, "Authorization", "Bearer "+bobKey+"x"); status != http.StatusUnauthorized {
		t.Errorf("a wrong key: %d", status)
	}
	if status, _, _ := c.do(http.MethodGet, "/", nil); status != http.StatusSeeOther {
		t.Errorf("no key on a wide listener with AllowLoopback: %d, want the login form", status)
	}
	open := e.serve(console.Options{AllowLoopback: true, Listener: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}})
	if status, _, body := newClient(t, open.URL).do(http.MethodGet, "/", nil); status != http.StatusOK || !strings.Contains(body, ">loopback<") {
		t.Errorf("no key on a loopback listener with AllowLoopback: %d", status)
	}

	alice, bob := newClient(t, srv.URL), newClient(t, srv.URL)
	alice.signIn(aliceKey)
	bob.signIn(bobKey)
	if status, _, _ := bob.do(http.MethodPost, "/logout", url.Values{"csrf": {alice.csrf("/")}}); status != http.StatusForbidden {
		t.Errorf("bob with alice's token: %d", status)
	}
	token := alice.csrf("/")
	for _, h := range [][]string{{"Origin", "http://evil.example"}, {"Sec-Fetch-Site", "cross-site"}} {
		if status, _, _ := alice.do(http.MethodPost, "/logout", url.Values{"csrf": {token}}, h...); status != http.StatusForbidden {
			t.Errorf("a POST with %s: %s: %d", h[0], h[1], status)
		}
	}
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"} {
		cl := newClient(t, srv.URL)
		form := url.Values{"key": {aliceKey}, "csrf": {cl.csrf("/login")}, "next": {next}}
		if status, loc, _ := cl.do(http.MethodPost, "/login", form); status != http.StatusSeeOther || loc != "/" {
			t.Errorf("next %q: %d → %q, want / ", next, status, loc)
		}
	}
}

// TestLiveFragments: the header X-Console-Fragment answers only the live part of a page; an unknown fragment
// is refused, and a fragment request without an operator gets 401, not the login page.
func TestLiveFragments(t *testing.T) {
	e := newConsoleEnv(t)
	srv := e.serve(console.Options{})
	c := newClient(t, srv.URL)
	key := []string{"Authorization", "Bearer " + aliceKey}
	status, _, body := c.do(http.MethodGet, "/periods", nil, append(key, "X-Console-Fragment", "live-periods")...)
	if status != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(body), `<div data-fragment="live-periods"`) || strings.Contains(body, "<html") {
		t.Errorf("the periods fragment: %d\n%.300s", status, body)
	}
	if status, _, _ := c.do(http.MethodGet, "/periods", nil, append(key, "X-Console-Fragment", "layout")...); status != http.StatusBadRequest {
		t.Errorf("a fragment that is not a live part: %d", status)
	}
	if status, _, _ := c.do(http.MethodGet, "/periods", nil, "X-Console-Fragment", "live-periods"); status != http.StatusUnauthorized {
		t.Errorf("a fragment without a key: %d", status)
	}
}
