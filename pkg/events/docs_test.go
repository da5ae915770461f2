package events

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDocsExamples keeps docs/events.md true: every reason code is
// documented, and every example event decodes and validates against the
// example catalog as the text says (only e-2 is rejected).
func TestDocsExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Reasons {
		if !strings.Contains(string(doc), "| `"+string(r)+"` |") {
			t.Errorf("reason %s is not documented", r)
		}
	}
	c, err := LoadCatalog("../../deploy/catalog.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC)
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	seen := 0
	for _, b := range blocks {
		for _, raw := range docEvents(t, b[1]) {
			e, rej := DecodeEvent(raw)
			if rej != nil {
				t.Errorf("example does not decode: %v\n%s", rej, raw)
				continue
			}
			seen++
			rej = c.Validate(&e, now)
			switch {
			case e.ID == "e-2" && (rej == nil || rej.Reason != ReasonBadQuantity):
				t.Errorf("e-2: %v, want bad_quantity", rej)
			case e.ID != "e-2" && rej != nil:
				t.Errorf("example %s rejected: %v", e.ID, rej)
			}
		}
	}
	if seen < 6 {
		t.Errorf("found %d example events, want at least 6", seen)
	}
}

func docEvents(t *testing.T, block string) [][]byte {
	if !strings.Contains(block, `"specversion"`) {
		return nil
	}
	if strings.HasPrefix(strings.TrimSpace(block), "[") {
		parts, err := SplitBatch([]byte(block), 0)
		if err != nil {
			t.Fatalf("batch example: %v", err)
		}
		out := make([][]byte, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out
	}
	return [][]byte{[]byte(block)}
}
