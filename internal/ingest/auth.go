package ingest

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// apiKeys holds the SHA-256 of each accepted bearer key. An empty set accepts every request.
// The keys themselves are never kept or logged.
type apiKeys [][sha256.Size]byte

// newAPIKeys hashes the non-empty keys, trimmed of spaces.
func newAPIKeys(keys []string) apiKeys {
	var ks apiKeys
	for _, k := range keys {
		if k = strings.TrimSpace(k); k != "" {
			ks = append(ks, sha256.Sum256([]byte(k)))
		}
	}
	return ks
}

// LoadAPIKeys returns the comma-separated keys of list and those of the file at path (one per line; blank
// lines and lines starting with # are skipped). Either may be empty; so may the result (no authentication).
func LoadAPIKeys(path, list string) ([]string, error) {
	var keys []string
	for _, k := range strings.Split(list, ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	if path == "" {
		return keys, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("api keys: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			keys = append(keys, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("api keys %s: %w", path, err)
	}
	return keys, nil
}

// allows reports whether r carries "Authorization: Bearer <key>" with a configured key. It compares the
// key's hash with every configured hash in constant time, so neither the key nor its position leaks.
func (ks apiKeys) allows(r *http.Request) bool {
	if len(ks) == 0 {
		return true
	}
	scheme, key, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(key)))
	match := 0
	for i := range ks {
		match |= subtle.ConstantTimeCompare(sum[:], ks[i][:])
	}
	return match == 1
}
