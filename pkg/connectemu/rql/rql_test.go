package rql

import (
	"errors"
	"testing"
)

// doc is a fake object for filter tests: a map of fields, absent = null.
type doc map[string]string

func (d doc) get(field string) (string, bool) {
	v, ok := d[field]
	return v, ok
}

func TestRQLFilters(t *testing.T) {
	d := doc{"status": "ready", "name": "Report Nov", "external_id": "ext-1", "note": "", "n": "1.50",
		"at": "2026-11-01T10:00:00Z", "star": "a*b"}
	tests := []struct {
		query string
		want  bool
	}{
		{"status=ready", true},
		{"status=draft", false},
		{"status=eq=ready", true},
		{"status=ne=ready", false},
		{"eq(status,ready)", true},
		{"ne(status,ready)", false},
		{"in(status,(draft,ready))", true},
		{"in(status,(ready))", true},
		{"not((eq(status,draft)))", true},
		{"not(in(status,(draft)))", true},
		{"and(eq(status,ready),or(eq(n,1),eq(n,1.5)))", true},
		{"(status=ready&n=1.5)", true},
		{"(status=draft;n=1.5)", true},
		{"eq(name,Report Nov)", true},
		{"out(status,(draft,ready))", false},
		{"like(name,Report*)", true},
		{"like(name,report*)", false},
		{"ilike(name,*NOV)", true},
		{"like(star,a%5C*b)", true},
		{"like(star,a%5C*c)", false},
		{"and(eq(status,ready),eq(external_id,ext-1))", true},
		{"and(eq(status,ready),eq(external_id,ext-2))", false},
		{"eq(status,ready)&eq(external_id,ext-2)", false},
		{"eq(status,ready),eq(external_id,ext-1)", true},
		{"or(eq(status,draft),eq(external_id,ext-1))", true},
		{"(status=draft|external_id=ext-1)", true},
		{"not(eq(status,draft))", true},
		{"eq(missing,null())", true},
		{"ne(name,null())", true},
		{"eq(note,empty())", true},
		{"eq(n,1.5)", true},
		{"gt(n,1.4)", true},
		{"le(n,1.4)", false},
		{"ge(at,2026-11-01)", true},
		{"lt(at,2026-11-01T09:00:00%2B00:00)", false},
		{"eq(name,%22Report Nov%22)", true},
		{"eq(name,'Report Nov')", true},
		{"limit=5&offset=2&eq(status,ready)", true},
		{"", true},
	}
	for _, tt := range tests {
		q, err := Parse(tt.query)
		if err != nil {
			t.Errorf("%q: %v", tt.query, err)
			continue
		}
		if got := q.filter == nil || q.filter.match(d.get); got != tt.want {
			t.Errorf("%q: match %v, want %v", tt.query, got, tt.want)
		}
	}
}

func TestRQLParameters(t *testing.T) {
	q, err := Parse("eq(limit,7)&offset=3&ordering(-name,+id)&select(-events)&search=nov")
	if err != nil {
		t.Fatal(err)
	}
	if q.limit != 7 || q.offset != 3 || q.search != "nov" || len(q.ordering) != 2 || !q.ordering[0].desc || q.ordering[1].desc {
		t.Fatalf("parsed %+v", q)
	}
}

// TestRQLErrors checks that what lib-rql's grammar refuses is refused (not a lenient reading of it).
func TestRQLErrors(t *testing.T) {
	for _, query := range []string{"eq(status", "eq(status,ready))", "foo(status,1)", "limit=-1", "limit=x",
		"eq(name,'open", "status", "in(status)", "%zz", "not(a=1,b=2)", "ne(limit,2)",
		"in(status,draft,ready)", "in(status,draft)", "out(status,draft,ready)",
		"not(and(eq(a,1),eq(b,2)))", "not(or(eq(a,1),eq(b,2)))", "not(not(eq(a,1)))", "not((a=1|b=2))",
		"not(ordering(a))", "and(eq(a,1))", "or(eq(a,1))", "a=1|b=2", "and(a=1|b=2,c=3)", "(a=1|b=2,c=3)",
		"ordering(a)&ordering(b)", "ordering(a,b,c,d,e,f)", "select(a)&select(b)", "and(ordering(a),eq(b,1))",
		"and(limit=1,eq(b,1))", "or(search=x,eq(b,1))", "search=ne=x", "limit=1&limit=2", "ordering=-a",
		"eq(a,)", "eq(a,b/c)", "eq(a,b#c)", "eq(1a,b)", "a=1&&b=2", "&a=1", "a=1&",
	} {
		if _, err := Parse(query); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: err %v, want ErrInvalid", query, err)
		}
	}
}

func TestCut(t *testing.T) {
	items := []int{0, 1, 2, 3, 4}
	tests := []struct {
		limit, offset int
		wantLen       int
		wantRange     string
	}{
		{-1, 0, 5, "items 0-4/5"},
		{2, 0, 2, "items 0-1/5"},
		{2, 4, 1, "items 4-4/5"},
		{2, 9, 0, "items 9-9/5"},
		{0, 3, 0, "items 0-0/5"},
		{5000, 0, 5, "items 0-4/5"},
	}
	for _, tt := range tests {
		p := cut(items, tt.limit, tt.offset)
		if len(p.Items) != tt.wantLen || p.ContentRange != tt.wantRange {
			t.Errorf("cut(limit %d, offset %d) = %d items %q, want %d %q", tt.limit, tt.offset, len(p.Items), p.ContentRange, tt.wantLen, tt.wantRange)
		}
	}
	if p := cut([]int{}, -1, 0); p.ContentRange != "items 0-0/0" || p.Items == nil {
		t.Errorf("empty list: %q %v", p.ContentRange, p.Items)
	}
}

func TestResourceListChecksFieldsAndOrders(t *testing.T) {
	res := Resource[doc]{
		"name": Text(func(d doc) (string, bool) { return d.get("name") }).Searchable(),
		"n":    Text(func(d doc) (string, bool) { return d.get("n") }).Orderable(),
	}
	all := []doc{{"name": "b", "n": "10"}, {"name": "a", "n": "9"}, {"name": "c"}}
	q, _ := Parse("ordering(-n)")
	p, err := res.List(q, all)
	if err != nil || p.Items[0]["name"] != "b" || p.Items[2]["name"] != "c" {
		t.Fatalf("ordering(-n) numerically, nulls last when descending: %v, %v", p.Items, err)
	}
	q, _ = Parse("")
	if p, _ := res.List(q, all); p.Items[0]["name"] != "c" || p.Items[2]["name"] != "b" {
		t.Fatalf("no ordering: %v, want newest first", p.Items)
	}
	q, _ = Parse("search=A")
	if p, _ := res.List(q, all); len(p.Items) != 1 {
		t.Fatalf("search=A: %v", p.Items)
	}
	q, _ = Parse("eq(unknown,1)")
	if _, err := res.List(q, all); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown field: %v", err)
	}
}

// TestExact: a filter requiring field = text (alone, with other terms, inside and()) names that text; a
// number or an instant (equal to other spellings), an or(), a not(), another operator or another field does
// not, and neither does no filter.
func TestExact(t *testing.T) {
	tests := []struct {
		query, want string
		ok          bool
	}{
		{"eq(usage_file,UF-2026-12-0001-0002)", "UF-2026-12-0001-0002", true},
		{"usage_file=UF-1&limit=10", "UF-1", true},
		{"eq(status,ready)&eq(usage_file,UF-1)", "UF-1", true},
		{"and(eq(status,ready),and(eq(usage_file,'UF-1'),ne(n,1)))", "UF-1", true},
		{"eq(usage_file,1.50)", "", false},
		{"eq(usage_file,2026-11-01)", "", false},
		{"or(eq(usage_file,UF-1),eq(usage_file,UF-2))", "", false},
		{"not(eq(usage_file,UF-1))", "", false},
		{"ne(usage_file,UF-1)", "", false},
		{"like(usage_file,UF-1)", "", false},
		{"in(usage_file,(UF-1))", "", false},
		{"eq(usage_file,null())", "", false},
		{"eq(usage_file,empty())", "", false},
		{"eq(other,UF-1)", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		q, err := Parse(tt.query)
		if err != nil {
			t.Fatalf("%q: %v", tt.query, err)
		}
		if got, ok := q.Exact("usage_file"); got != tt.want || ok != tt.ok {
			t.Errorf("%q: Exact = %q, %v; want %q, %v", tt.query, got, ok, tt.want, tt.ok)
		}
	}
}
