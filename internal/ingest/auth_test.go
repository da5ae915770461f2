package ingest

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestLoadAPIKeysFromFileAndList(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(path, []byte("# ingest keys\nfile-key-1\n\n  file-key-2  \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := LoadAPIKeys(path, "env-key-1, ,env-key-2")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"env-key-1", "env-key-2", "file-key-1", "file-key-2"}; !slices.Equal(want, keys) {
		t.Errorf("want %v, have %v", want, keys)
	}
	if _, err := LoadAPIKeys(filepath.Join(t.TempDir(), "missing"), ""); err == nil {
		t.Error("want an error for a missing file")
	}
}

func TestBearerKeys(t *testing.T) {
	ks := newAPIKeys([]string{"k1", "k2"})
	for header, want := range map[string]bool{
		"Bearer k1": true, "bearer k2": true, "Bearer k3": false, "k1": false, "Basic k1": false, "": false, "Bearer ": false,
	} {
		r := httptest.NewRequest("POST", "/v1/events", nil)
		r.Header.Set("Authorization", header)
		if have := ks.allows(r); have != want {
			t.Errorf("%q: want %v, have %v", header, want, have)
		}
	}
	if !newAPIKeys(nil).allows(httptest.NewRequest("POST", "/", nil)) {
		t.Error("no keys configured must allow every request")
	}
}
