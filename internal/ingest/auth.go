package ingest

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"unicode"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// AnySource, as the one source of an APIKey, lets the key write every source.
const AnySource = "*"

// APIKey is a bearer key producers send ("Authorization: Bearer <key>") and the CloudEvents sources its
// holder may write. A key has the syntax of an RFC 6750 bearer token (letters, digits, - . _ ~ + / and
// trailing =), so the separators of the key syntax below can never be part of one.
type APIKey struct {
	Key string // never logged or printed: messages name a key by its position
	// Sources are the prefixes of the sources the key may write ("/meters/eu-1/" allows "/meters/eu-1/a"
	// and not "/meters/eu-2"), or AnySource alone. None: any source, allowed only for the one key configured.
	Sources []string
}

// String shows k's sources, never its key (fmt's %v, %+v and %s, and slog, print this).
func (k APIKey) String() string {
	return "APIKey{" + redacted + " sources: " + strings.Join(k.Sources, " ") + "}"
}

// GoString is String, for %#v.
func (k APIKey) GoString() string { return k.String() }

// redacted is how a key prints.
const redacted = "[REDACTED]"

// writes reports whether k may write an event of source.
func (k *APIKey) writes(source string) bool {
	if len(k.Sources) == 0 {
		return true
	}
	for _, p := range k.Sources {
		if p == AnySource || strings.HasPrefix(source, p) {
			return true
		}
	}
	return false
}

// parseAPIKey reads one key entry: "<key>" or "<key>:<prefix> [<prefix>…]", the prefixes separated by white
// space ("*" alone for any source). Its errors never quote the key.
func parseAPIKey(entry string) (APIKey, error) {
	key, sources, bound := strings.Cut(entry, ":")
	k := APIKey{Key: strings.TrimSpace(key)}
	if bound {
		k.Sources = strings.Fields(sources)
	}
	if bound && len(k.Sources) == 0 {
		return APIKey{}, errors.New("no source prefix after ':' (write * for any source)")
	}
	if err := k.check(); err != nil {
		return APIKey{}, err
	}
	return k, nil
}

// check reports what makes k malformed, without quoting the key.
func (k *APIKey) check() error {
	switch {
	case !isBearerToken(k.Key):
		return errors.New("the key is not a bearer token: letters, digits and - . _ ~ + / (then = padding) only")
	case len(k.Sources) > 1 && slices.Contains(k.Sources, AnySource):
		return errors.New("* (any source) stands alone")
	case slices.ContainsFunc(k.Sources, func(p string) bool { return p == "" || strings.ContainsFunc(p, unicode.IsSpace) }):
		return errors.New("a source prefix is empty or holds white space")
	}
	return nil
}

// isBearerToken reports whether s has the b64token syntax of RFC 6750, 2.1.
func isBearerToken(s string) bool {
	t := strings.TrimRight(s, "=")
	if t == "" {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/", c) >= 0) {
			return false
		}
	}
	return true
}

// LoadAPIKeys reads the key entries of list (separated by commas) and of the file at path (one per line;
// blank lines and lines starting with # are skipped); see parseAPIKey. Either may be empty; so may the result.
// It reports every malformed entry, by position, and then checkAPIKeys' problems.
func LoadAPIKeys(path, list string) ([]APIKey, error) {
	var keys []APIKey
	var errs []error
	add := func(where, entry string) {
		k, err := parseAPIKey(entry)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
		keys = append(keys, k)
	}
	n := 0
	for _, e := range strings.Split(list, ",") {
		if e = strings.TrimSpace(e); e != "" {
			n++
			add(fmt.Sprintf("api keys: entry %d of the list", n), e)
		}
	}
	if err := readKeyFile(path, add); err != nil {
		return nil, err
	}
	if len(errs) == 0 {
		errs = append(errs, checkAPIKeys(keys))
	}
	return keys, errors.Join(errs...)
}

// readKeyFile passes each entry of the file at path (if any) to add, with its line number.
func readKeyFile(path string, add func(where, entry string)) error {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("api keys: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if e := strings.TrimSpace(sc.Text()); e != "" && !strings.HasPrefix(e, "#") {
			add(fmt.Sprintf("api keys: %s line %d", path, line), e)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("api keys %s: %w", path, err)
	}
	return nil
}

// checkAPIKeys reports, naming keys by position (1-based, list entries first), a key that is not a bearer
// token, a key given twice, and — with several keys — a key bound to no source: it could write the
// sources of every other producer.
func checkAPIKeys(keys []APIKey) error {
	var errs []error
	seen := map[[sha256.Size]byte]int{}
	for i, k := range keys {
		if err := k.check(); err != nil {
			errs = append(errs, fmt.Errorf("api key %d: %w", i+1, err))
			continue
		}
		sum := sha256.Sum256([]byte(k.Key))
		if j, dup := seen[sum]; dup {
			errs = append(errs, fmt.Errorf("api keys %d and %d are the same key", j+1, i+1))
		}
		seen[sum] = i
		if len(k.Sources) == 0 && len(keys) > 1 {
			errs = append(errs, fmt.Errorf("api key %d is bound to no source: with %d keys, each must list the source prefixes it may write "+
				"(\"<key>:/meters/eu-1/ /meters/eu-2/\", or \"<key>:*\" for any source)", i+1, len(keys)))
		}
	}
	return errors.Join(errs...)
}

// keyring is how the Service tells producers apart: the SHA-256 of each configured key (the keys themselves
// are not kept) and the sources each may write. Without keys, every request is one anonymous producer.
type keyring struct {
	sums    [][sha256.Size]byte
	sources []APIKey // Key cleared
}

func newKeyring(keys []APIKey) *keyring {
	kr := &keyring{}
	for _, k := range keys {
		kr.sums = append(kr.sums, sha256.Sum256([]byte(k.Key)))
		kr.sources = append(kr.sources, APIKey{Sources: k.Sources})
	}
	return kr
}

// anonymous reports whether the keyring has no keys: every request is let in as producer 0.
func (kr *keyring) anonymous() bool { return len(kr.sums) == 0 }

// producers is how many producers the keyring tells apart: one per key, or the anonymous one.
func (kr *keyring) producers() int { return max(1, len(kr.sums)) }

// identify returns the producer of r, the position of the key r carries ("Authorization: Bearer <key>"),
// or ok false when it carries none of the keys. It compares the key's hash with every configured hash in
// constant time, so neither the key nor its position leaks.
func (kr *keyring) identify(r *http.Request) (producer int, ok bool) {
	if kr.anonymous() {
		return 0, true
	}
	scheme, key, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return 0, false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(key)))
	match := 0
	for i := range kr.sums {
		eq := subtle.ConstantTimeCompare(sum[:], kr.sums[i][:])
		producer = subtle.ConstantTimeSelect(eq, i, producer)
		match |= eq
	}
	return producer, match == 1
}

// writes reports whether producer may write source.
func (kr *keyring) writes(producer int, source string) bool {
	return kr.anonymous() || kr.sources[producer].writes(source)
}

// forbidden is the rejection of an event of source that producer may not write.
func (kr *keyring) forbidden(producer int, source string) *events.Rejection {
	return &events.Rejection{Reason: events.ReasonForbiddenSource, Field: "source", Message: fmt.Sprintf(
		"this API key may not write source %q: it may write sources starting with %s", clipHeader(source), strings.Join(kr.sources[producer].Sources, " or "))}
}
