package usageapi

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Term is one term of an RQL query string: a filter (Eq, In, And, …), an ordering, a select,
// a search, or a page parameter (Limit, Offset). Terms given side by side to a list call are
// joined with "&" at the top level, which Connect ANDs. The zero Term is empty and ignored.
//
// A Term built from bad input (a field that is not a name, an empty In, a value that cannot be
// quoted) carries an error; Encode and every list call report it instead of sending the query.
type Term struct {
	kind    termKind
	expr    string // RQL text, not yet URL-escaped
	logical bool   // expr is and(…), or(…) or not(…), which the grammar refuses inside not()
	n       int    // limit or offset
	err     error
}

type termKind uint8

const (
	termNone termKind = iota
	termFilter
	termOrdering
	termSelect
	termSearch
	termLimit
	termOffset
)

// ErrBadQuery is wrapped by the error of a Term built from input RQL cannot express.
var ErrBadQuery = errors.New("usageapi: bad RQL query")

// String returns the RQL text of t (before URL escaping).
func (t Term) String() string {
	switch t.kind {
	case termLimit:
		return "limit=" + strconv.Itoa(t.n)
	case termOffset:
		return "offset=" + strconv.Itoa(t.n)
	case termSearch:
		return "search=" + t.expr
	}
	return t.expr
}

// Err returns the error t was built with, if any.
func (t Term) Err() error { return t.err }

// fieldName matches an RQL property (lib-rql PROP): a letter, then letters, digits, '_', '-', '.'.
var fieldName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.\-]*$`)

// bareValue matches values written without quotes (a conservative, ASCII-only subset of
// lib-rql's UNQUOTED_VAL): no spaces, no characters with a meaning in RQL or in a URL.
var bareValue = regexp.MustCompile(`^[A-Za-z0-9_\-*+][A-Za-z0-9_.\-:+@*]*$`)

// reserved are words of the RQL grammar; as values they are quoted to avoid any ambiguity.
var reserved = map[string]bool{
	"eq": true, "ne": true, "gt": true, "ge": true, "lt": true, "le": true, "and": true, "or": true,
	"not": true, "in": true, "out": true, "like": true, "ilike": true, "ordering": true,
	"select": true, "t": true,
}

func badTerm(format string, args ...any) Term {
	return Term{kind: termFilter, err: fmt.Errorf("%w: "+format, append([]any{ErrBadQuery}, args...)...)}
}

// quoteValue returns v as an RQL value: bare when safe, else in double or single quotes.
// RQL has no escape inside quotes, so a value holding both quote characters cannot be written.
func quoteValue(v string) (string, error) {
	switch {
	case bareValue.MatchString(v) && !reserved[v]:
		return v, nil
	case !strings.Contains(v, `"`):
		return `"` + v + `"`, nil
	case !strings.Contains(v, `'`):
		return `'` + v + `'`, nil
	}
	return "", fmt.Errorf("%w: value %q holds both quote characters", ErrBadQuery, v)
}

// compare builds op(field,value) with value quoted as needed; raw values (null(), empty()) pass as is.
func compare(op, field, value string, raw bool) Term {
	if !fieldName.MatchString(field) {
		return badTerm("%s: field %q", op, field)
	}
	if !raw {
		q, err := quoteValue(value)
		if err != nil {
			return Term{kind: termFilter, err: fmt.Errorf("%s(%s): %w", op, field, err)}
		}
		value = q
	}
	return Term{kind: termFilter, expr: op + "(" + field + "," + value + ")"}
}

// Eq matches field equal to value: eq(field,value). Value may be a string or a string enum
// (Eq("status", FileStatusReady)).
func Eq[V ~string](field string, value V) Term { return compare("eq", field, string(value), false) }

// Ne matches field not equal to value: ne(field,value).
func Ne[V ~string](field string, value V) Term { return compare("ne", field, string(value), false) }

// Gt matches field greater than value (dates as 2026-11-25 or 2026-11-25T10:00:00Z).
func Gt(field, value string) Term { return compare("gt", field, value, false) }

// Ge matches field greater than or equal to value.
func Ge(field, value string) Term { return compare("ge", field, value, false) }

// Lt matches field less than value.
func Lt(field, value string) Term { return compare("lt", field, value, false) }

// Le matches field less than or equal to value.
func Le(field, value string) Term { return compare("le", field, value, false) }

// Like matches field against pattern, case-sensitively; '*' is the wildcard
// (like(name,*report*)). Escape literal stars in user text with LikeLiteral.
func Like(field, pattern string) Term { return compare("like", field, pattern, false) }

// ILike is Like without regard to case.
func ILike(field, pattern string) Term { return compare("ilike", field, pattern, false) }

// LikeLiteral escapes s so that Like/ILike match its stars literally.
func LikeLiteral(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`).Replace(s)
}

// IsNull matches an absent field: eq(field,null()).
func IsNull(field string) Term { return compare("eq", field, "null()", true) }

// NotNull matches a present field: ne(field,null()).
func NotNull(field string) Term { return compare("ne", field, "null()", true) }

// IsEmpty matches an empty string field: eq(field,empty()).
func IsEmpty(field string) Term { return compare("eq", field, "empty()", true) }

// In matches field equal to any of values: in(field,(a,b)). It needs at least one value.
func In[V ~string](field string, values ...V) Term { return list("in", field, values) }

// Out matches field equal to none of values: out(field,(a,b)).
func Out[V ~string](field string, values ...V) Term { return list("out", field, values) }

func list[V ~string](op, field string, values []V) Term {
	if !fieldName.MatchString(field) {
		return badTerm("%s: field %q", op, field)
	}
	if len(values) == 0 {
		return badTerm("%s(%s): no values", op, field)
	}
	quoted := make([]string, len(values))
	for i, v := range values {
		q, err := quoteValue(string(v))
		if err != nil {
			return Term{kind: termFilter, err: fmt.Errorf("%s(%s): %w", op, field, err)}
		}
		quoted[i] = q
	}
	return Term{kind: termFilter, expr: op + "(" + field + ",(" + strings.Join(quoted, ",") + "))"}
}
