package aggregate

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRestoreOlderVersions restores snapshots written by versions 1 (before trace sets), 2 (before fold
// specs and product definitions) and 3 (before cumulative series), taken half-way through each golden stream: the rest of the stream gives the
// golden output, and the restored state is the one a fresh run reaches (the golden streams carry no trace
// contexts).
func TestRestoreOlderVersions(t *testing.T) {
	for _, version := range []int{1, 2, 3} {
		forGoldenSnapshots(t, version, func(t *testing.T, cfg Config, msgs []msg, data []byte, golden string) {
			s, err := Restore(cfg, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			half := len(msgs) / 2
			fresh, _ := run(t, cfg, New(cfg), msgs[:half], false)
			if s.LastSeq() != msgs[half-1].Seq || !bytes.Equal(snapshotOf(t, s), snapshotOf(t, fresh)) {
				t.Error("the restored state differs from a fresh run's")
			}
			want := goldenAfter(t, golden, s.LastSeq())
			if _, got := run(t, cfg, s, msgs[half:], false); !bytes.Equal(got, want) {
				t.Errorf("output after the restore:\n%s", got)
			}
		})
	}
}

// TestSnapshotGoldens pins the current format: the state half-way through each golden stream writes the bytes
// of testdata/snapshot-v<snapshotVersion> (run with -update to rewrite them after bumping the version), and
// restoring them gives the rest of the golden output.
func TestSnapshotGoldens(t *testing.T) {
	dir := filepath.Join("testdata", "snapshot-v"+string(rune('0'+snapshotVersion)))
	if *update {
		writeGoldenSnapshots(t, dir)
	}
	forGoldenSnapshots(t, snapshotVersion, func(t *testing.T, cfg Config, msgs []msg, data []byte, golden string) {
		half := len(msgs) / 2
		fresh, _ := run(t, cfg, New(cfg), msgs[:half], false)
		if !bytes.Equal(snapshotOf(t, fresh), data) {
			t.Fatal("the state writes other bytes than the golden snapshot: a format change needs a new version")
		}
		s, err := Restore(cfg, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		want := goldenAfter(t, golden, s.LastSeq())
		if _, got := run(t, cfg, s, msgs[half:], false); !bytes.Equal(got, want) {
			t.Errorf("output after the restore:\n%s", got)
		}
	})
}

func writeGoldenSnapshots(t *testing.T, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, in := range goldenInputs(t) {
		cfg, msgs := readGoldenInput(t, in)
		s, _ := run(t, cfg, New(cfg), msgs[:len(msgs)/2], false)
		name := strings.TrimSuffix(filepath.Base(in), ".input.jsonl")
		if err := os.WriteFile(filepath.Join(dir, name+".snapshot"), snapshotOf(t, s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// forGoldenSnapshots runs f for each golden stream with its snapshot of the given version.
func forGoldenSnapshots(t *testing.T, version int, f func(t *testing.T, cfg Config, msgs []msg, data []byte, golden string)) {
	for _, in := range goldenInputs(t) {
		name := strings.TrimSuffix(filepath.Base(in), ".input.jsonl")
		t.Run(name+"/v"+string(rune('0'+version)), func(t *testing.T) {
			cfg, msgs := readGoldenInput(t, in)
			data, err := os.ReadFile(filepath.Join("testdata", "snapshot-v"+string(rune('0'+version)), name+".snapshot"))
			if err != nil {
				t.Fatal(err)
			}
			if v := data[len(snapshotMagic)]; int(v) != version {
				t.Fatalf("fixture of version %d", v)
			}
			f(t, cfg, msgs, data, strings.TrimSuffix(in, ".input.jsonl")+".golden.jsonl")
		})
	}
}

func goldenInputs(t *testing.T) []string {
	inputs, err := filepath.Glob("testdata/golden/*.input.jsonl")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs (%v)", err)
	}
	return inputs
}

// TestRestoreLegacyWithCatalogChange: a version 1 or 2 snapshot does not record its products' definitions, so
// restoring it with a catalog that lacks one of its marked products fails (it could not be marked) rather than
// losing the product's records; and a version 2 snapshot holding two aggregates of one record identity (an
// aggregation change under version 2) is refused as corrupt.
func TestRestoreLegacyWithCatalogChange(t *testing.T) {
	cfg, _ := readGoldenInput(t, "testdata/golden/basic.input.jsonl")
	for _, path := range []string{"testdata/snapshot-v1/basic.snapshot", "testdata/snapshot-v2/basic.snapshot"} {
		data := []byte(readFile(t, path))
		if _, err := Restore(changedConfig(cfg, withoutProduct(t, "PRD-CR")), bytes.NewReader(data)); !errors.Is(err, ErrSnapshotCatalog) {
			t.Errorf("%s: error %v, want ErrSnapshotCatalog", path, err)
		}
		if _, err := Restore(changedConfig(cfg, editedCatalog(t, "contracts: [CRD-B1, CRD-B2]", "contracts: [CRD-B1]")), bytes.NewReader(data)); err != nil {
			t.Errorf("%s with a contract removed: %v", path, err)
		}
	}
	changed := changedConfig(testConfig(t), editedCatalog(t, "{mpn: SUM, precision: decimal(2), aggregation: sum}", "{mpn: SUM, precision: decimal(2), aggregation: max}"))
	data := []byte(readFile(t, "testdata/snapshot-v2/aggregation-change.snapshot"))
	if _, err := Restore(changed, bytes.NewReader(data)); !errors.Is(err, errCorrupt) {
		t.Errorf("two aggregates of one record: error %v, want a corrupt snapshot", err)
	}
}
