package opsapi

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Keys are the operator keys a server accepts, by operator name. Only the SHA-256 of each key is kept. The zero
// value accepts no key.
type Keys struct {
	entries []keyEntry
}

type keyEntry struct {
	name string
	hash [sha256.Size]byte
}

// Len is the number of keys.
func (k Keys) Len() int { return len(k.entries) }

// Names lists the operators, in the order they were given.
func (k Keys) Names() []string {
	names := make([]string, len(k.entries))
	for i, e := range k.entries {
		names[i] = e.name
	}
	return names
}

// String names the operators, never their keys.
func (k Keys) String() string { return "operator keys of " + strings.Join(k.Names(), ", ") }

// Operator returns the name of the operator whose key is token. Every key is compared, in constant time, so the
// time taken says nothing of which key (or how much of one) matched.
func (k Keys) Operator(token string) (string, bool) {
	h := sha256.Sum256([]byte(token))
	found := -1
	for i := range k.entries {
		if subtle.ConstantTimeCompare(h[:], k.entries[i].hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return "", false
	}
	return k.entries[found].name, true
}

// LoadKeys reads operator keys from list (NAME=KEY entries separated by commas) and from the file at path (one
// entry a line; blank lines and lines starting with # are skipped). Either may be empty. A name is letters,
// digits and - . _ @; a key at least 16 characters without white space, commas or '='; names and keys are
// unique. Errors name the entry by position and never quote a key.
func LoadKeys(path, list string) (Keys, error) {
	var k Keys
	var errs []error
	add := func(where, entry string) {
		if err := k.add(entry); err != nil {
			errs = append(errs, fmt.Errorf("operator keys: %s: %w", where, err))
		}
	}
	n := 0
	for _, e := range strings.Split(list, ",") {
		if e = strings.TrimSpace(e); e != "" {
			n++
			add(fmt.Sprintf("entry %d of the list", n), e)
		}
	}
	if path != "" {
		if err := readKeysFile(path, add); err != nil {
			errs = append(errs, err)
		}
	}
	return k, errors.Join(errs...)
}

// MinKeyLength is the shortest operator key accepted.
const MinKeyLength = 16

// add parses NAME=KEY and adds it.
func (k *Keys) add(entry string) error {
	name, key, ok := strings.Cut(entry, "=")
	name, key = strings.TrimSpace(name), strings.TrimSpace(key)
	switch {
	case !ok || name == "" || key == "":
		return errors.New("want NAME=KEY")
	case !validName(name):
		return fmt.Errorf("operator name %q: letters, digits and - . _ @ only", name)
	case len(key) < MinKeyLength || strings.ContainsAny(key, " \t,="):
		return fmt.Errorf("the key of %q: at least %d characters, no white space, ',' or '='", name, MinKeyLength)
	}
	h := sha256.Sum256([]byte(key))
	for _, e := range k.entries {
		if e.name == name {
			return fmt.Errorf("operator %q is given twice", name)
		}
		if e.hash == h {
			return fmt.Errorf("the key of %q is also the key of %q", name, e.name)
		}
	}
	k.entries = append(k.entries, keyEntry{name: name, hash: h})
	return nil
}

func validName(s string) bool {
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.ContainsRune("-._@", c)) {
			return false
		}
	}
	return len(s) <= 64
}

func readKeysFile(path string, add func(where, entry string)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("operator keys file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if e := strings.TrimSpace(sc.Text()); e != "" && !strings.HasPrefix(e, "#") {
			add(fmt.Sprintf("%s line %d", path, line), e)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("operator keys file %s: %w", path, err)
	}
	return nil
}
