package devstack_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// readme is the repository's README.
func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// devURL is a URL of the `usagepipe dev` column of README's endpoint table, at dev's default ports.
var devURL = regexp.MustCompile(`http://127\.0\.0\.1:(\d+)(/(?:[^\s` + "`" + `|{,]|\{[^}]*\})*)`)

// expand expands the first {a,b,…} of path, recursively.
func expand(path string) []string {
	i := strings.IndexByte(path, '{')
	j := strings.IndexByte(path, '}')
	if i < 0 || j < i {
		return []string{path}
	}
	var out []string
	for _, alt := range strings.Split(path[i+1:j], ",") {
		out = append(out, expand(path[:i]+alt+path[j+1:])...)
	}
	return out
}

// Every endpoint README's "Operate it" lists for `usagepipe dev` answers 200, at the stack's addresses for
// dev's default ports (8080 ingest, 9464 ops, 8090 emulator).
func TestEveryREADMEEndpointAnswersInDev(t *testing.T) {
	st := start(t, testOptions(t, t.TempDir()))
	u := st.URLs()
	base := map[string]string{"8080": u.Ingest, "9464": u.Metrics, "8090": u.Emulator}
	text := readme(t)
	section := text[strings.Index(text, "## Operate it"):]
	section = section[:strings.Index(section, "**Metrics.**")]
	n := 0
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			continue
		}
		for _, m := range devURL.FindAllStringSubmatch(cells[3], -1) {
			for _, path := range expand(m[2]) {
				n++
				getOK(t, base[m[1]]+path)
			}
		}
		for _, m := range devURL.FindAllStringSubmatch(line, -1) {
			if _, ok := base[m[1]]; !ok {
				t.Errorf("README lists %s, on a port dev does not use", m[0])
			}
		}
	}
	for _, m := range devURL.FindAllStringSubmatch(section[strings.Index(section, "`http://127.0.0.1:9464/healthz`"):], 2) {
		n++
		getOK(t, base[m[1]]+m[2])
	}
	if n < 14 {
		t.Errorf("README's endpoint table lists %d endpoints of dev; want every service's /healthz, /readyz and /metrics", n)
	}
}

func getOK(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(body) == 0 {
		t.Errorf("GET %s: %s, %d bytes", url, resp.Status, len(body))
	}
}

// The event README's "Run it" shows (its shell substitutions replaced by an id and the current time) is
// accepted by dev's ingest: it belongs to dev's sample catalog.
func TestREADMESampleEventIsAcceptedByDev(t *testing.T) {
	text := readme(t)
	i := strings.Index(text, "EVENT='")
	if i < 0 {
		t.Fatal("README has no EVENT='…' sample")
	}
	sample := text[i+len("EVENT='"):]
	sample = sample[:strings.Index(sample, "}}'")+2]
	sample = strings.NewReplacer(`'"$(date +%s)"'`, "readme-1", `'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'`,
		time.Now().UTC().Format(time.RFC3339), "\n", "").Replace(sample)
	if !json.Valid([]byte(sample)) {
		t.Fatalf("README's sample event is not JSON once substituted: %s", sample)
	}
	st := start(t, testOptions(t, t.TempDir()))
	resp, err := http.Post(st.URLs().Ingest+"/v1/events", "application/cloudevents+json", bytes.NewReader([]byte(sample)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct {
		Accepted int
		Results  []struct{ Status, Reason string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || resp.StatusCode != http.StatusOK || answer.Accepted != 1 {
		t.Fatalf("README's sample event: %s, %+v (%v)", resp.Status, answer, err)
	}
}
