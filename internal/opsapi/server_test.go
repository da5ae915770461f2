package opsapi

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	aliceKey = "alice-key-0123456789"
	bobKey   = "bob-key-abcdefghijkl"
)

func testKeys(t *testing.T) Keys {
	t.Helper()
	k, err := LoadKeys("", "alice="+aliceKey+", bob="+bobKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// get sends GET path with the key (none if empty) and decodes the JSON answer.
func get(t *testing.T, url, method, key string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: content type %q, body %s", method, url, ct, b)
	}
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("%s %s: %v in %s", method, url, err, b)
	}
	return resp.StatusCode, body
}

func reason(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	r, _ := e["reason"].(string)
	return r
}

func TestKeysNameTheOperator(t *testing.T) {
	srv := httptest.NewServer(New(Options{Keys: testKeys(t)}))
	defer srv.Close()
	for _, c := range []struct {
		key, name string
		status    int
		reason    string
	}{
		{aliceKey, "alice", 200, ""},
		{bobKey, "bob", 200, ""},
		{"", "", 401, ReasonUnauthorized},
		{"alice-key-012345678X", "", 401, ReasonUnauthorized},
	} {
		status, body := get(t, srv.URL+"/api/v1/whoami", "GET", c.key)
		if status != c.status || reason(body) != c.reason || c.name != "" && body["name"] != c.name {
			t.Errorf("key %q: status %d, body %v; want %d, name %q, reason %q", c.key, status, body, c.status, c.name, c.reason)
		}
	}
}

// TestLoopbackOpenOnlyWhenAllowed: without a key, a request is served only when the server allows loopback and
// listens on loopback; a key still names its operator there.
func TestLoopbackOpenOnlyWhenAllowed(t *testing.T) {
	loop := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}
	wide := &net.TCPAddr{IP: net.IPv4zero, Port: 1}
	for _, c := range []struct {
		name   string
		allow  bool
		addr   net.Addr
		status int
	}{{"allowed on loopback", true, loop, 200}, {"not allowed", false, loop, 401}, {"allowed but wide listener", true, wide, 401}} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(New(Options{Keys: testKeys(t), AllowLoopback: c.allow, Listener: c.addr}))
			defer srv.Close()
			status, body := get(t, srv.URL+"/api/v1/whoami", "GET", "")
			if status != c.status {
				t.Fatalf("status %d (%v), want %d", status, body, c.status)
			}
			if status == 200 && body["name"] != LoopbackOperator {
				t.Errorf("operator %v, want %s", body["name"], LoopbackOperator)
			}
			if _, body := get(t, srv.URL+"/api/v1/whoami", "GET", bobKey); body["name"] != "bob" {
				t.Errorf("with bob's key: %v", body)
			}
		})
	}
}

func TestUnknownRoutesAndMethodsAnswerJSON(t *testing.T) {
	srv := httptest.NewServer(New(Options{Keys: testKeys(t)}))
	defer srv.Close()
	if status, body := get(t, srv.URL+"/api/v1/nothing", "GET", aliceKey); status != 404 || reason(body) != ReasonNotServed {
		t.Errorf("unknown route: %d %v", status, body)
	}
	if status, body := get(t, srv.URL+"/api/v1/whoami", "POST", aliceKey); status != 405 || reason(body) != ReasonMethodNotAllowed {
		t.Errorf("wrong method: %d %v", status, body)
	}
}

func TestHandlerErrorsKeepTheirReasonAndHideOthers(t *testing.T) {
	s := New(Options{Keys: testKeys(t)})
	s.Handle("GET /api/v1/fail/{kind}", func(_ http.ResponseWriter, r *http.Request, _ Operator) error {
		if r.PathValue("kind") == "typed" {
			return Errorf(http.StatusServiceUnavailable, ReasonNoOwner, "partition 3 has no owner right now, retry")
		}
		return errors.New("nats: secret detail")
	})
	srv := httptest.NewServer(s)
	defer srv.Close()
	if status, body := get(t, srv.URL+"/api/v1/fail/typed", "GET", aliceKey); status != 503 || reason(body) != ReasonNoOwner {
		t.Errorf("typed error: %d %v", status, body)
	}
	status, body := get(t, srv.URL+"/api/v1/fail/other", "GET", aliceKey)
	if b, _ := json.Marshal(body); status != 500 || reason(body) != ReasonInternal || strings.Contains(string(b), "secret") {
		t.Errorf("other error: %d %s", status, b)
	}
}

func TestLoadKeysRejectsBadEntriesWithoutQuotingKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(path, []byte("# operators\ncarol=carol-key-0123456789\n\nalice=short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := LoadKeys(path, "alice="+aliceKey+",nokey,dup="+aliceKey)
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"entry 2 of the list: want NAME=KEY", "also the key of \"alice\"", "line 4"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), aliceKey) || strings.Contains(err.Error(), "short") {
		t.Errorf("error quotes a key: %v", err)
	}
	if got := strings.Join(k.Names(), ","); got != "alice,carol" {
		t.Errorf("names %s", got)
	}
}

func TestListenRefusesTheNetworkWithoutKeys(t *testing.T) {
	if _, err := Listen("0.0.0.0:0", Keys{}); !errors.Is(err, ErrOpenToNetwork) {
		t.Fatalf("wide address without keys: %v", err)
	}
	ln, err := Listen("127.0.0.1:0", Keys{})
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	ln, err = Listen("0.0.0.0:0", testKeys(t))
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
}
