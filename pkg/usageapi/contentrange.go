package usageapi

import (
	"fmt"
	"strconv"
	"strings"
)

// ContentRange is the Content-Range header of a list answer: "items First-Last/Total".
// For an empty page Connect writes Last = First (items 0-0/0, or items 5-5/3 past the end),
// so Count, not Last, tells how many items a page holds.
type ContentRange struct {
	First, Last, Total int
}

// PageRange returns the Content-Range of a page of count items starting at offset, as Connect
// writes it (an empty page gives items offset-offset/total).
func PageRange(offset, count, total int) ContentRange {
	last := offset + count - 1
	if count == 0 {
		last = offset
	}
	return ContentRange{First: offset, Last: last, Total: total}
}

// String returns the header value.
func (r ContentRange) String() string {
	return fmt.Sprintf("items %d-%d/%d", r.First, r.Last, r.Total)
}

// ParseContentRange parses "items a-b/total" (the unit may be any word).
func ParseContentRange(s string) (ContentRange, error) {
	bad := fmt.Errorf("usageapi: bad Content-Range %q", s)
	_, spec, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok {
		return ContentRange{}, bad
	}
	span, total, ok := strings.Cut(spec, "/")
	if !ok {
		return ContentRange{}, bad
	}
	first, last, ok := strings.Cut(span, "-")
	if !ok {
		return ContentRange{}, bad
	}
	var r ContentRange
	var errs [3]error
	r.First, errs[0] = strconv.Atoi(first)
	r.Last, errs[1] = strconv.Atoi(last)
	r.Total, errs[2] = strconv.Atoi(total)
	if errs[0] != nil || errs[1] != nil || errs[2] != nil || r.First < 0 || r.Last < r.First || r.Total < 0 {
		return ContentRange{}, bad
	}
	return r, nil
}
