package events_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// TestMarshalFileReadsBackAndFillsDefaults: the file form parses back to a catalog with the same file form,
// and a catalog that leaves its defaults implicit has the same bytes as one that spells them out.
func TestMarshalFileReadsBackAndFillsDefaults(t *testing.T) {
	example, err := os.ReadFile("../../deploy/catalog.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	first := marshalFile(t, example)
	if again := marshalFile(t, first); !bytes.Equal(first, again) {
		t.Errorf("read back, the file form changed:\n%s\n%s", first, again)
	}
	implicit := marshalFile(t, []byte(`products:
  - {id: PRD-1, name: P, schema: QT, currency: USD, contracts: [CRD-1], period: {kind: daily},
     items: [{mpn: U, name: U, unit: unit, precision: integer, aggregation: sum}]}`))
	if !strings.Contains(string(implicit), `"max_event_age":"`) || !strings.Contains(string(implicit), `"time_zone":"UTC"`) {
		t.Fatalf("defaults not filled in: %s", implicit)
	}
	if explicit := marshalFile(t, implicit); !bytes.Equal(implicit, explicit) {
		t.Errorf("implicit and explicit defaults differ:\n%s\n%s", implicit, explicit)
	}
}

func marshalFile(t *testing.T, data []byte) []byte {
	t.Helper()
	c, err := events.ParseCatalog(data)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.MarshalFile()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
