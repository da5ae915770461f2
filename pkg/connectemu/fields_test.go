package connectemu

import (
	"testing"

	"github.com/usagepipe/usagepipe/pkg/connectemu/rql"
)

// TestResourceChecksLookups checks the lookups, enums, ordering flags and value types the spec gives each
// field of usage files and records.
func TestResourceChecksLookups(t *testing.T) {
	files := []struct {
		query string
		ok    bool
	}{
		{"ge(created.at,2026-11-01)", true},
		{"lt(created.at,2026-11-01T10:00:00%2B03:00)", true},
		{"eq(created.at,2026-11-01)", false},
		{"like(created.at,2026*)", false},
		{"gt(created.at,yesterday)", false},
		{"eq(status,null())", false},
		{"eq(environment,null())", false},
		{"eq(schema,null())", false},
		{"eq(external_id,null())", true},
		{"ne(name,empty())", true},
		{"gt(name,b)", false},
		{"like(external_id,null())", false},
		{"eq(status,readyy)", false},
		{"in(status,(ready,bogus))", false},
		{"like(status,read*)", true},
		{"ordering(-created.at,id)", true},
		{"ordering(external_id)", false},
		{"ordering(name)", false},
		{"ordering(status,-product.name)", true},
		{"eq(nothing,1)", false},
	}
	for _, tt := range files {
		q, err := rql.Parse(tt.query)
		if err == nil {
			_, err = fileResource.List(q, nil)
		}
		if (err == nil) != tt.ok {
			t.Errorf("files %q: err %v, want ok %v", tt.query, err, tt.ok)
		}
	}
	records := map[string]bool{
		"eq(usagefile.schema,qt)": true, "eq(status,null())": true, "eq(id,UR-1)": false,
		"ordering(created_time)": true, "ordering(usagefile.id)": false, "ge(start_date,2026-11-01)": true,
		"like(start_date,2026*)": false,
	}
	for query, ok := range records {
		q, err := rql.Parse(query)
		if err == nil {
			_, err = recordResource.List(q, nil)
		}
		if (err == nil) != ok {
			t.Errorf("records %q: err %v, want ok %v", query, err, ok)
		}
	}
}
