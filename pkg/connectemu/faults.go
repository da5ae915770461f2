package connectemu

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultKind is what an injected fault does to a request.
type FaultKind string

// Fault kinds.
const (
	// FaultLatency delays the request by Delay, then serves it normally.
	FaultLatency FaultKind = "latency"
	// FaultThrottle answers 429 with Retry-After: Delay (rounded up to seconds), without serving.
	FaultThrottle FaultKind = "429"
	// FaultStatus answers Status (500, 502 or 503) with SYS_001, without serving.
	FaultStatus FaultKind = "status"
	// FaultReset closes the connection (TCP RST when possible) without serving or answering.
	FaultReset FaultKind = "reset"
	// FaultCommitDrop serves the request (the change is made and persisted), then closes the connection
	// instead of answering: the client sees a network error although the operation happened.
	FaultCommitDrop FaultKind = "commit-drop"
	// FaultEmpty answers 200 with an empty body (Content-Type application/json), as a proxy may.
	FaultEmpty FaultKind = "empty"
	// FaultNull answers 200 with the JSON body null.
	FaultNull FaultKind = "null"
	// FaultHTML answers 200 with an HTML page (text/html), as a proxy's or portal's login page.
	FaultHTML FaultKind = "html"
	// FaultRedirect answers Status (301 by default; 302, 303, 307, 308) with Location: Location, or, if
	// that is empty, the request's path and query on https://connect-moved.invalid (a host that never
	// resolves).
	FaultRedirect FaultKind = "redirect"
	// FaultListLag (files.create only) hides the file a create makes from GET /usage/files for the next
	// Lists list requests, or for Delay: a list lagging behind a create, as an index does. GET by id still
	// finds it. It combines with the other faults of the same request (e.g. a commit-drop).
	FaultListLag FaultKind = "list-lag"
)

// Fault is one injected failure. A route's faults apply in order to its successive requests: each applies
// to Times requests (default 1; negative means forever), or, when Probability is set, to each request
// with that probability, forever. Requests no fault claims are served normally.
//
// The garbled answers (FaultEmpty, FaultNull, FaultHTML, FaultRedirect) replace the answer without
// serving the request, or, with Served, after serving it: the change is made and persisted and its answer
// lost, the dangerous case (a client that took the garbled answer for a refusal would repeat a create).
type Fault struct {
	Kind        FaultKind
	Status      int           // FaultStatus: 500, 502 or 503; FaultRedirect: 301 (default), 302, 303, 307 or 308
	Delay       time.Duration // FaultLatency: the delay; FaultThrottle: Retry-After (default 1s); FaultListLag: how long
	Lists       int           // FaultListLag: how many list requests miss the file (when Delay is 0)
	Location    string        // FaultRedirect: the absolute URL it points to (default: see FaultRedirect)
	Served      bool          // garbled answers: serve the request first, then answer the garbled answer instead
	Times       int
	Probability float64
}

// ErrFaultSpec is wrapped by ParseFaults errors.
var ErrFaultSpec = errors.New("connectemu: bad fault spec")

// ParseFaults parses a comma-separated fault list, each `kind[:arg][*N|*forever|~P]`:
// latency:200ms, 429, 429:3s, 500, 502, 503, reset, commit-drop (alias commit-then-drop), list-lag:N (N list
// requests) or list-lag:300ms, empty, null, html, redirect or redirect:URL (301), 301, 302, 303, 307 or 308
// (a redirect of that status, :URL optional), and the garbled answers served first: commit-empty,
// commit-null, commit-html, commit-redirect, commit-301, …; `*N` applies it to N requests, `*forever` to
// all, `~0.2` to each request with probability 0.2.
func ParseFaults(spec string) ([]Fault, error) {
	var out []Fault
	for _, part := range strings.Split(spec, ",") {
		f, err := parseFault(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func parseFault(s string) (Fault, error) {
	bad := func(format string, args ...any) (Fault, error) {
		return Fault{}, fmt.Errorf("%w: %q: %s", ErrFaultSpec, s, fmt.Sprintf(format, args...))
	}
	body, f, err := parseRepeat(s)
	if err != nil {
		return bad("%v", err)
	}
	kind, arg, _ := strings.Cut(body, ":")
	if g, ok, err := parseGarbled(f, kind, arg); ok {
		if err != nil {
			return bad("%v", err)
		}
		return g, nil
	}
	switch kind {
	case "latency":
		d, err := time.ParseDuration(arg)
		if err != nil || d < 0 {
			return bad("latency needs a duration")
		}
		f.Kind, f.Delay = FaultLatency, d
	case "429":
		f.Kind, f.Delay = FaultThrottle, time.Second
		if arg != "" {
			d, err := time.ParseDuration(arg)
			if err != nil || d < 0 {
				return bad("429 takes a Retry-After duration")
			}
			f.Delay = d
		}
	case "500", "502", "503":
		f.Kind, f.Status = FaultStatus, map[string]int{"500": 500, "502": 502, "503": 503}[kind]
	case "reset":
		f.Kind = FaultReset
	case "commit-drop", "commit-then-drop":
		f.Kind = FaultCommitDrop
	case "list-lag":
		return parseListLag(f, arg, bad)
	default:
		return bad("unknown kind %q", kind)
	}
	return f, nil
}

// parseListLag reads the argument of list-lag: a count of list requests or a duration.
func parseListLag(f Fault, arg string, bad func(string, ...any) (Fault, error)) (Fault, error) {
	f.Kind = FaultListLag
	if n, err := strconv.Atoi(arg); err == nil && n > 0 {
		f.Lists = n
		return f, nil
	}
	d, err := time.ParseDuration(arg)
	if err != nil || d <= 0 {
		return bad("list-lag needs a positive count of list requests or a duration")
	}
	f.Delay = d
	return f, nil
}

// parseRepeat splits the `*N`, `*forever` or `~P` suffix off s.
func parseRepeat(s string) (string, Fault, error) {
	if body, n, ok := strings.Cut(s, "*"); ok {
		if n == "forever" {
			return body, Fault{Times: -1}, nil
		}
		times, err := strconv.Atoi(n)
		if err != nil || times < 1 {
			return "", Fault{}, errors.New("*N needs a positive count or forever")
		}
		return body, Fault{Times: times}, nil
	}
	if body, p, ok := strings.Cut(s, "~"); ok {
		prob, err := strconv.ParseFloat(p, 64)
		if err != nil || prob <= 0 || prob > 1 {
			return "", Fault{}, errors.New("~P needs a probability in (0,1]")
		}
		return body, Fault{Probability: prob}, nil
	}
	return s, Fault{Times: 1}, nil
}

// faultTable holds the faults of every route and the count each has left. Safe for concurrent use.
type faultTable struct {
	mu     sync.Mutex
	routes map[string][]*armedFault
}

type armedFault struct {
	Fault
	left int // requests left; negative: forever
}

func newFaultTable() *faultTable { return &faultTable{routes: map[string][]*armedFault{}} }

func (t *faultTable) set(route string, faults []Fault) {
	t.mu.Lock()
	defer t.mu.Unlock()
	armed := make([]*armedFault, 0, len(faults))
	for _, f := range faults {
		if f.Times == 0 {
			f.Times = 1
		}
		armed = append(armed, &armedFault{Fault: f, left: f.Times})
	}
	if len(armed) == 0 {
		delete(t.routes, route)
		return
	}
	t.routes[route] = armed
}

// next returns the fault the next request on route meets, if any (the route's own faults first, then
// those set for "*"). List lags are not counted here: see lag.
func (t *faultTable) next(route string) (Fault, bool) {
	return t.take(route, func(k FaultKind) bool { return k != FaultListLag })
}

// lag returns the list lag the next request on route meets, if any; it applies besides the fault next gives.
func (t *faultTable) lag(route string) (Fault, bool) {
	if route != routeFilesCreate {
		return Fault{}, false
	}
	return t.take(route, func(k FaultKind) bool { return k == FaultListLag })
}

// take consumes the first fault of route (then of "*") whose kind is wanted and that applies.
func (t *faultTable) take(route string, wanted func(FaultKind) bool) (Fault, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, key := range []string{route, "*"} {
		for _, f := range t.routes[key] {
			switch {
			case !wanted(f.Kind):
			case f.Probability > 0:
				if rand.Float64() < f.Probability {
					return f.Fault, true
				}
			case f.left != 0:
				f.left--
				return f.Fault, true
			}
		}
	}
	return Fault{}, false
}

// SetFaults sets the faults of a route, replacing any it had; no faults clears it. Routes are operation
// names (Routes lists them, e.g. "files.create", "files.upload") or "*" for every route.
func (e *Emulator) SetFaults(route string, faults ...Fault) error {
	if route != "*" && !knownRoute(route) {
		return fmt.Errorf("%w: unknown route %q", ErrFaultSpec, route)
	}
	for _, f := range faults {
		if f.Kind == FaultListLag && route != routeFilesCreate && route != "*" {
			return fmt.Errorf("%w: list-lag applies to %s, not %s", ErrFaultSpec, routeFilesCreate, route)
		}
		if err := f.check(); err != nil {
			return fmt.Errorf("%w: %v", ErrFaultSpec, err)
		}
	}
	e.faults.set(route, faults)
	return nil
}

// ClearFaults removes every fault.
func (e *Emulator) ClearFaults() {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.routes = map[string][]*armedFault{}
}
