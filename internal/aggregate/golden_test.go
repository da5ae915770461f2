package aggregate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.golden.jsonl from the current output")

// goldenHeader is the first line of a golden input: the Config, in JSON.
type goldenHeader struct {
	Comment string `json:"comment"`
	Config  struct {
		Partition    int       `json:"partition"`
		Partitions   int       `json:"partitions"`
		MarkFrom     time.Time `json:"mark_from"`
		DedupHorizon string    `json:"dedup_horizon"`
		Catalog      string    `json:"catalog"` // in testdata/golden; default testdata/catalog.yaml
	} `json:"config"`
}

// TestGolden runs each testdata/golden/*.input.jsonl (a header line, then one source message per line) and
// compares the output, one JSON line per item, with the .golden.jsonl file next to it. The output must be the
// same when the state is snapshotted and restored before every message.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/golden/*.input.jsonl")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs (%v)", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".input.jsonl")
		t.Run(name, func(t *testing.T) {
			cfg, msgs := readGoldenInput(t, in)
			_, got := run(t, cfg, New(cfg), msgs, false)
			if _, again := run(t, cfg, New(cfg), msgs, true); !bytes.Equal(got, again) {
				t.Fatalf("output with a restore before every message differs:\n%s", again)
			}
			path := strings.TrimSuffix(in, ".input.jsonl") + ".golden.jsonl"
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (run with -update to accept):\n%s", path, got)
			}
		})
	}
}

func readGoldenInput(t *testing.T, path string) (Config, []msg) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() {
		t.Fatalf("%s: empty", path)
	}
	var hd goldenHeader
	if err := json.Unmarshal(sc.Bytes(), &hd); err != nil {
		t.Fatalf("%s: header: %v", path, err)
	}
	cfg := Config{Catalog: testCatalog(t), Partition: hd.Config.Partition, Partitions: hd.Config.Partitions, MarkFrom: hd.Config.MarkFrom}
	if hd.Config.Catalog != "" {
		c, err := events.LoadCatalog(filepath.Join(filepath.Dir(path), hd.Config.Catalog))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Catalog = c
	}
	if hd.Config.DedupHorizon != "" {
		if cfg.DedupHorizon, err = time.ParseDuration(hd.Config.DedupHorizon); err != nil {
			t.Fatal(err)
		}
	}
	var msgs []msg
	for sc.Scan() {
		var m msg
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: line %d: %v", path, len(msgs)+2, err)
		}
		msgs = append(msgs, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cfg, msgs
}
