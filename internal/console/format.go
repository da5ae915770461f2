package console

import (
	"fmt"
	"html/template"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// funcs are the template functions. Those that need the catalog (zones) are bound by funcsFor.
var funcs = template.FuncMap{
	"tz":      func(string, time.Time) timeView { return timeView{} },
	"utc":     utc,
	"since":   since,
	"dur":     duration,
	"secs":    func(s float64) string { return duration(time.Duration(s * float64(time.Second))) },
	"tone":    tone,
	"counts":  counts,
	"link":    link,
	"add":     func(a, b int) int { return a + b },
	"short":   short,
	"join":    strings.Join,
	"dict":    dict,
	"persec":  func(f float64) string { return fmt.Sprintf("%.1f/s", f) },
	"ifempty": orDefault,
	"list":    func(s ...string) []string { return s },
}

// orDefault is s, or def when s is empty.
func orDefault(def, s string) string {
	if s == "" {
		return def
	}
	return s
}

// funcsFor binds tz to the catalog's product zones.
func funcsFor(cat *events.Catalog) template.FuncMap {
	f := maps.Clone(funcs)
	f["tz"] = func(product string, t time.Time) timeView { return zoned(cat, product, t) }
	return f
}

// timeView is an instant as the pages show it: in UTC, and in the product's zone when it is not UTC.
type timeView struct {
	ISO   string // RFC 3339, for <time datetime>
	UTC   string
	Local string // "" when the zone is UTC or unknown
	Zone  string
}

// zoned shows t in UTC and in the zone of product (when the catalog knows it).
func zoned(cat *events.Catalog, product string, t time.Time) timeView {
	if t.IsZero() {
		return timeView{}
	}
	v := timeView{ISO: t.UTC().Format(time.RFC3339), UTC: utc(t)}
	if cat == nil {
		return v
	}
	p, ok := cat.Product(product)
	if !ok || p.Location == nil || p.Location == time.UTC || p.Location.String() == "UTC" {
		return v
	}
	lt := t.In(p.Location)
	v.Local, v.Zone = lt.Format("2006-01-02 15:04:05 MST"), p.Location.String()
	return v
}

// utc is t in UTC, to the second ("—" for the zero time).
func utc(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// since says how long before now t was ("in …" for a time to come).
func since(now, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := now.Sub(t)
	if d < 0 {
		return "in " + duration(-d)
	}
	return duration(d) + " ago"
}

// duration is d rounded for a person: 850ms, 12s, 4m05s, 3h10m, 2d4h.
func duration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
}

// tone is the badge colour of a state: good, busy, bad or quiet.
func tone(state string) string {
	switch state {
	case "accepted", "closed", "counted", "replayed", "reported", "live", "ok", "done", "valid", "approved":
		return "good"
	case "rejected", "failed", "invalid", "dead_letter", "refused", "parked", "overdue", "down", "open_letter", "not_committed":
		return "bad"
	case "empty", "duplicate", "abandoned", "unchanged", "open", "":
		return "quiet"
	}
	return "busy"
}

// counts shows a map of counts as "a 2 · b 1", by key.
func counts(m map[string]int) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, " · ")
}

// link is path with the query of the pairs given (empty values left out).
func link(path string, kv ...any) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if v := fmt.Sprint(kv[i+1]); v != "" && v != "0" {
			q.Set(fmt.Sprint(kv[i]), v)
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// short cuts a long id for a table cell (the full one is in the link and the title).
func short(s string) string {
	if len(s) <= 14 {
		return s
	}
	return s[:12] + "…"
}

// dict makes a map of pairs, to pass several values to a template.
func dict(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return m
}
