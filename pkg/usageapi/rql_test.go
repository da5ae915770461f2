package usageapi

import (
	"errors"
	"testing"
)

func TestTermString(t *testing.T) {
	tests := []struct {
		name string
		term Term
		want string
	}{
		{"eq", Eq("status", "ready"), "eq(status,ready)"},
		{"and in", And(Eq("status", "ready"), In("product.id", "PRD-1", "PRD-2")), "and(eq(status,ready),in(product.id,(PRD-1,PRD-2)))"},
		{"ne", Ne("status", "deleted"), "ne(status,deleted)"},
		{"typed enum", In("status", FileStatusReady, FileStatusPending), "in(status,(ready,pending))"},
		{"out", Out("status", "deleted", "closed"), "out(status,(deleted,closed))"},
		{"or", Or(Eq("a", "1"), Eq("b", "2")), "or(eq(a,1),eq(b,2))"},
		{"not", Not(Eq("schema", "qt")), "not(eq(schema,qt))"},
		{"like wildcard", Like("name", "*report*"), "like(name,*report*)"},
		{"ilike", ILike("name", "*Nov*"), "ilike(name,*Nov*)"},
		{"like literal star", Like("name", "*"+LikeLiteral("a*b")+"*"), `like(name,"*a\*b*")`},
		{"datetime bare", Ge("created.at", "2026-11-25T10:00:00+03:00"), "ge(created.at,2026-11-25T10:00:00+03:00)"},
		{"date", Lt("created.at", "2026-11-25"), "lt(created.at,2026-11-25)"},
		{"gt le", And(Gt("a", "1"), Le("b", "2")), "and(gt(a,1),le(b,2))"},
		{"external id with colon and dots", Eq("external_id", "usagepipe:PRD-1.CRD-2:20261125T000000Z"), "eq(external_id,usagepipe:PRD-1.CRD-2:20261125T000000Z)"},
		{"space quoted", Eq("name", "Nov 2026"), `eq(name,"Nov 2026")`},
		{"comma quoted", Eq("name", "a,b"), `eq(name,"a,b")`},
		{"parens quoted", Eq("name", "a(b)"), `eq(name,"a(b)")`},
		{"ampersand quoted", Eq("name", "a&b"), `eq(name,"a&b")`},
		{"double quote uses single", Eq("name", `say "hi"`), `eq(name,'say "hi"')`},
		{"empty value quoted", Eq("note", ""), `eq(note,"")`},
		{"reserved word quoted", Eq("name", "and"), `eq(name,"and")`},
		{"leading dot quoted", Eq("name", ".x"), `eq(name,".x")`},
		{"non-ascii quoted", Eq("name", "Müller"), `eq(name,"Müller")`},
		{"in quoted item", In("name", "a b", "c"), `in(name,("a b",c))`},
		{"null", IsNull("rule"), "eq(rule,null())"},
		{"not null", NotNull("rule"), "ne(rule,null())"},
		{"empty", IsEmpty("rule"), "eq(rule,empty())"},
		{"and of one", And(Eq("a", "1")), "eq(a,1)"},
		{"and skips zero", And(Term{}, Eq("a", "1"), Term{}), "eq(a,1)"},
		{"nested", And(Or(Eq("a", "1"), Eq("a", "2")), Not(In("b", "x"))), "and(or(eq(a,1),eq(a,2)),not(in(b,(x))))"},
		{"ordering", Ordering("-created.at", "id"), "ordering(-created.at,id)"},
		{"select", Select("-events", "+stats"), "select(-events,+stats)"},
		{"limit", Limit(10), "limit=10"},
		{"offset", Offset(20), "offset=20"},
		{"search", Search("acme"), "search=acme"},
		{"search with space quoted", Search("acme corp"), `search="acme corp"`},
		{"search with comma quoted", Search("a,b"), `search="a,b"`},
		{"search reserved word quoted", Search("and"), `search="and"`},
		{"not of like", Not(ILike("name", "*x*")), "not(ilike(name,*x*))"},
		{"not of and of one", Not(And(Eq("a", "1"))), "not(eq(a,1))"},
		{"in is wrapped", In("a", "x", "y"), "in(a,(x,y))"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.term.Err(); err != nil {
				t.Fatal(err)
			}
			if got := tt.term.String(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestTermErrors(t *testing.T) {
	tests := []struct {
		name string
		term Term
	}{
		{"bad field", Eq("status)", "x")},
		{"empty field", Eq("", "x")},
		{"empty in", In[string]("status")},
		{"both quotes", Eq("name", `a"b'c`)},
		{"and of ordering", And(Eq("a", "1"), Ordering("b"))},
		{"not of limit", Not(Limit(1))},
		{"error propagates through and", And(Eq("a", "1"), In[FileStatus]("b"))},
		{"error propagates through not", Not(In[string]("b"))},
		{"not of and", Not(And(Eq("a", "1"), Eq("b", "2")))},
		{"not of or", Not(Or(Eq("a", "1"), Eq("b", "2")))},
		{"not of not", Not(Not(Eq("a", "1")))},
		{"not of and holding one or", Not(And(Or(Eq("a", "1"), Eq("b", "2"))))},
		{"search holding both quotes", Search(`a"b'c`)},
		{"negative limit", Limit(-1)},
		{"negative offset", Offset(-1)},
		{"double sign", Ordering("--a")},
		{"bad ordering field", Ordering("-")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.term.Err(); !errors.Is(err, ErrBadQuery) {
				t.Errorf("Err() = %v, want ErrBadQuery", err)
			}
			if _, err := Encode(tt.term); err == nil {
				t.Error("Encode accepted a bad term")
			}
		})
	}
}

func TestEncode(t *testing.T) {
	tests := []struct {
		name  string
		terms []Term
		want  string
	}{
		{"filter and ordering", []Term{And(Eq("status", "ready"), In("product.id", "PRD-1", "PRD-2")), Ordering("-created.at")},
			"and(eq(status,ready),in(product.id,(PRD-1,PRD-2)))&ordering(-created.at)"},
		{"space is %20 never +", []Term{Eq("name", "Nov 2026")}, "eq(name,%22Nov%202026%22)"},
		{"plus stays plus", []Term{Ge("created.at", "2026-11-25T10:00:00+03:00")}, "ge(created.at,2026-11-25T10:00:00+03:00)"},
		{"ampersand and hash escaped", []Term{Eq("name", "a&b#c")}, "eq(name,%22a%26b%23c%22)"},
		{"percent escaped", []Term{Eq("name", "100%")}, "eq(name,%22100%25%22)"},
		{"utf-8 escaped", []Term{Eq("name", "é")}, "eq(name,%22%C3%A9%22)"},
		{"search escaped", []Term{Search("a b")}, "search=%22a%20b%22"},
		{"zero terms skipped", []Term{{}, Limit(5), {}}, "limit=5"},
		{"nothing", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Encode(tt.terms...)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}
