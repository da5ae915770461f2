package aggregate

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

func snapshotOf(t *testing.T, s *State) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := s.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRestoreRejects(t *testing.T) {
	cfg := testConfig(t)
	h := newHarness(t, cfg)
	h.apply(mins(1), ev("1", "S", "UNQ", mins(1), "1", withAttr("user", "u")), ev("2", "S", "", mins(1), "1", withCost("", "1")))
	good := snapshotOf(t, h.s)
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 1
		return b
	}
	other := cfg
	other.Partition = 3
	tests := []struct {
		name string
		cfg  Config
		data []byte
		want error
	}{
		{"empty", cfg, nil, ErrSnapshotFormat},
		{"other data", cfg, []byte("{\"not\": \"a snapshot\"}"), ErrSnapshotFormat},
		{"damaged", cfg, flip(len(good) / 2), ErrSnapshotChecksum},
		{"truncated", cfg, good[:len(good)-1], ErrSnapshotChecksum},
		{"other partition", other, good, ErrSnapshotPartition},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Restore(tt.cfg, bytes.NewReader(tt.data)); !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRestoreRejectsCorruptBody(t *testing.T) {
	// A body that passes the checksum but does not parse: every truncation point, with a valid checksum.
	cfg := testConfig(t)
	h := newHarness(t, cfg)
	h.apply(mins(1), ev("1", "S", "UNQ", mins(1), "1", withAttr("user", "u")), ev("2", "S", "", mins(1), "1", withCost("", "1")))
	good := snapshotOf(t, h.s)
	body := good[:len(good)-4]
	for n := len(snapshotMagic) + 1; n < len(body); n++ {
		b := append(bytes.Clone(body[:n]), 0, 0, 0, 0)
		b = withChecksum(b[:n])
		if _, err := Restore(cfg, bytes.NewReader(b)); err == nil {
			t.Fatalf("truncated at %d of %d: restored", n, len(body))
		}
	}
}

func withChecksum(body []byte) []byte {
	var buf bytes.Buffer
	buf.Write(body)
	sum := crcOf(body)
	buf.Write([]byte{byte(sum >> 24), byte(sum >> 16), byte(sum >> 8), byte(sum)})
	return buf.Bytes()
}

func TestRestoreWithChangedCatalog(t *testing.T) {
	cfg := testConfig(t)
	h := newHarness(t, cfg)
	h.apply(mins(1), ev("1", "S", "SUM", mins(1), "1"), ev("2", "S", "", mins(1), "1", withCost("", "1")))
	h.tick(mins(3 * 60))
	// PRD-CR leaves the catalog, PRD-NEW joins it and PRD-QT gains a contract.
	h.restoreWith(Config{Catalog: parseCatalog(t, `products:
  - id: PRD-QT
    schema: QT
    currency: USD
    contracts: [CRD-A, CRD-A2]
    period: {kind: fixed, every: 1h}
    allowed_lateness: 10m
    max_event_age: 6h
    items: [{mpn: SUM, precision: decimal(2), aggregation: sum}]
  - id: PRD-NEW
    schema: QT
    currency: USD
    contracts: [CRD-N]
    period: {kind: fixed, every: 2h}
    allowed_lateness: 1m
    max_event_age: 6h
    items: [{mpn: X, precision: integer, aggregation: sum}]
`), Partitions: 1, MarkFrom: t0})
	out := h.apply(mins(3*60+1), ev("3", "S", "", mins(3*60), "1", withCost("", "1")))
	if len(out.DeadLetters) != 1 || out.DeadLetters[0].Reason != events.ReasonUnknownProduct {
		t.Fatalf("event of a removed product: %+v", out)
	}
	// The new product's and contract's marks start from MarkFrom, as in every partition: PRD-NEW's [08:00,
	// 10:00) closes at 10:01, after it; CRD-A2 catches up with CRD-A.
	if got := markList(out.Marks); got != "PRD-NEW/CRD-N/25T08=0 PRD-NEW/CRD-N/25T10=0 PRD-QT/CRD-A2/25T09=0 PRD-QT/CRD-A2/25T10=0 PRD-QT/CRD-A2/25T11=0" {
		t.Errorf("marks %q", got)
	}
	// The removed product's open period still closes, at the lateness it had, and is marked like every other.
	out = h.tick(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC))
	if r := closedOf(t, out, "S", "COST"); r.Product != "PRD-CR" || r.Quantity.String() != "1" {
		t.Errorf("record %+v", r)
	}
	var crMarks []events.PartitionMark
	for _, m := range out.Marks {
		if m.Product == "PRD-CR" {
			crMarks = append(crMarks, m)
		}
	}
	if got := markList(crMarks); got != "PRD-CR/CRD-B1/24T23=1 PRD-CR/CRD-B2/24T23=0" {
		t.Errorf("marks of the removed product %q", got)
	}
}

func TestRestoreWithChangedHorizon(t *testing.T) {
	cfg := testConfig(t)
	cfg.DedupHorizon = time.Hour
	h := newHarness(t, cfg)
	e := ev("a", "S", "SUM", mins(61), "1") // its period closes at 130m
	h.apply(mins(1), e)
	longer := cfg
	longer.DedupHorizon = 4 * time.Hour
	h.restoreWith(longer)
	h.apply(mins(65), e) // beyond the old horizon, within the new one
	shorter := cfg
	shorter.DedupHorizon = 16 * time.Minute
	h.restoreWith(shorter)
	h.apply(mins(66), e) // re-tagged at the end of its 15-minute generation: forgotten by now, counted again
	h.apply(mins(80), e) // remembered from 66m
	if r := closedOf(t, h.tick(mins(130)), "S", "SUM"); r.Quantity.String() != "2" {
		t.Errorf("quantity %s, want 2", r.Quantity)
	}
}

func parseCatalog(t *testing.T, yaml string) *events.Catalog {
	t.Helper()
	c, err := events.ParseCatalog([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
