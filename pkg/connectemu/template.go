package connectemu

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usagefile"
)

// templateWorkbook is the usage template of a product (GET /usage/products/{id}/template links to it): the
// records sheet with its header and the default category, no records.
func templateWorkbook(p *CatalogProduct) ([]byte, error) {
	var buf bytes.Buffer
	opts := usagefile.WriteOptions{Schema: events.Schema(strings.ToUpper(p.Schema))}
	if err := usagefile.Write(&buf, opts, func(func(usagefile.Record) bool) {}); err != nil {
		return nil, fmt.Errorf("template of %s: %w", p.ID, err)
	}
	return buf.Bytes(), nil
}
