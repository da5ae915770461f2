package ingest

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadAPIKeysFromFileAndList(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	file := "# ingest keys\nfile-key-1: /meters/eu-1/ /meters/eu-2/\n\n  file-key-2:*  \n"
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := LoadAPIKeys(path, "env-key-1:/a/, ,env-key-2 : urn:meter:x /b")
	if err != nil {
		t.Fatal(err)
	}
	want := []APIKey{
		{"env-key-1", []string{"/a/"}}, {"env-key-2", []string{"urn:meter:x", "/b"}},
		{"file-key-1", []string{"/meters/eu-1/", "/meters/eu-2/"}}, {"file-key-2", []string{"*"}},
	}
	if !reflect.DeepEqual(want, keys) {
		t.Errorf("want %v, have %v", want, keys)
	}
	if _, err := LoadAPIKeys(filepath.Join(t.TempDir(), "missing"), ""); err == nil {
		t.Error("want an error for a missing file")
	}
	if keys, err := LoadAPIKeys("", "only-key"); err != nil || len(keys) != 1 || keys[0].Sources != nil {
		t.Errorf("one key alone may be unbound: %v %v", keys, err)
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(format, keys); strings.Contains(out, "key-") || !strings.Contains(out, "/meters/eu-1/") {
			t.Errorf("%s of keys prints a key or no sources: %s", format, out)
		}
	}
}

// TestAPIKeyProblemsNameThePositionNotTheKey: every malformed entry is reported, by position, and no message
// quotes a key.
func TestAPIKeyProblemsNameThePositionNotTheKey(t *testing.T) {
	for list, want := range map[string]string{
		"secret-1:":                      "entry 1 of the list: no source prefix after ':'",
		"secret-1:/a/,secret-2":          "api key 2 is bound to no source: with 2 keys",
		"secret-1:/a/,secret-1:/b/":      "api keys 1 and 2 are the same key",
		"secret-1:* /a/":                 "* (any source) stands alone",
		"secret-1:/a/,secr et-2:/b/":     "entry 2 of the list: the key is not a bearer token",
		"secret-1;/a/":                   "entry 1 of the list: the key is not a bearer token",
		"secret-1:/a/,secret-2,secret-3": "api key 3 is bound to no source",
	} {
		_, err := LoadAPIKeys("", list)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: want %q, have %v", list, want, err)
			continue
		}
		if strings.Contains(err.Error(), "secret-") || strings.Contains(err.Error(), "secr") {
			t.Errorf("%q: the error quotes a key: %v", list, err)
		}
	}
}

func TestBearerKeysIdentifyTheirProducer(t *testing.T) {
	kr := newKeyring([]APIKey{{"k1", []string{"/a/"}}, {"k2", []string{"*"}}, {"k3=", []string{"/c/", "urn:c"}}})
	for header, want := range map[string]int{
		"Bearer k1": 0, "bearer k2": 1, "Bearer  k3= ": 2, "Bearer k3": -1, "k1": -1, "Basic k1": -1, "": -1, "Bearer ": -1,
	} {
		r := httptest.NewRequest("POST", "/v1/events", nil)
		r.Header.Set("Authorization", header)
		p, ok := kr.identify(r)
		if have := map[bool]int{true: p, false: -1}[ok]; have != want {
			t.Errorf("%q: want producer %d, have %d", header, want, have)
		}
	}
	for _, tt := range []struct {
		producer int
		source   string
		want     bool
	}{
		{0, "/a/x", true}, {0, "/a/", true}, {0, "/a", false}, {0, "/ab", false}, {0, "/c/x", false},
		{1, "anything", true}, {2, "/c/1", true}, {2, "urn:c:1", true}, {2, "/a/1", false},
	} {
		if have := kr.writes(tt.producer, tt.source); have != tt.want {
			t.Errorf("producer %d writing %q: want %v, have %v", tt.producer, tt.source, tt.want, have)
		}
	}
	anon := newKeyring(nil)
	if p, ok := anon.identify(httptest.NewRequest("POST", "/", nil)); !ok || p != 0 || !anon.writes(0, "/any") {
		t.Error("no keys: every request is the anonymous producer 0, writing any source")
	}
}
