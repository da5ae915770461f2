package otlpmap

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// Emit receives the i-th record or point of a request (numbered from 0 in request order) as an event, or
// its rejection (rej non-nil; e then holds what was found, for the answer's source and id).
type Emit func(i int, e events.Event, rej *events.Rejection)

// Mapper maps OTLP records and points to events by a catalog's OTLP rules.
type Mapper struct {
	logsByName map[string][]*rule // logs rules by event_name
	logsAny    []*rule            // logs rules without event_name
	metrics    map[string][]*rule // metrics rules by metric name
}

// rule is a catalog rule with what mapping needs at hand.
type rule struct {
	events.OTLPRule
	n         int      // position among the catalog's rules, from 1
	precision int      // the item's decimals
	attrNames []string // the keys of Attributes, sorted
}

// New indexes the catalog's OTLP rules.
func New(c *events.Catalog) *Mapper {
	m := &Mapper{logsByName: map[string][]*rule{}, metrics: map[string][]*rule{}}
	for i, r := range c.OTLPRules() {
		p, _ := c.Product(r.Product)
		it, _ := p.Item(r.Item)
		rl := &rule{OTLPRule: r, n: i + 1, precision: int(it.Precision), attrNames: slices.Sorted(maps.Keys(r.Attributes))}
		switch {
		case r.Signal == events.SignalMetrics:
			m.metrics[r.Metric] = append(m.metrics[r.Metric], rl)
		case r.EventName != "":
			m.logsByName[r.EventName] = append(m.logsByName[r.EventName], rl)
		default:
			m.logsAny = append(m.logsAny, rl)
		}
	}
	return m
}

// where is what a record or point's references read: its resource, scope, attributes and body.
type where struct {
	resource []*commonpb.KeyValue
	scope    *commonpb.InstrumentationScope
	attrs    []*commonpb.KeyValue
	body     *commonpb.AnyValue
}

// get returns the value ref names (a literal is a string value), or nil when absent.
func (w *where) get(ref events.OTLPRef) *commonpb.AnyValue {
	kind, key := ref.Kind()
	switch kind {
	case events.RefResource:
		return lookup(w.resource, key)
	case events.RefScope:
		return lookup(w.scope.GetAttributes(), key)
	case events.RefAttribute:
		return lookup(w.attrs, key)
	case events.RefBody:
		return w.body
	}
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: string(ref)}}
}

// matches reports whether every condition of r holds for w.
func (r *rule) matches(w *where) bool {
	for ref, want := range r.Match {
		if got, ok := text(w.get(ref)); !ok || got != want {
			return false
		}
	}
	return true
}

// pick returns the one rule of candidates (two lists) matching w, or the rejection.
func pick(w *where, what string, lists ...[]*rule) (*rule, *events.Rejection) {
	var found *rule
	for _, list := range lists {
		for _, r := range list {
			if !r.matches(w) {
				continue
			}
			if found != nil {
				return nil, &events.Rejection{Reason: events.ReasonAmbiguousMapping, Message: fmt.Sprintf(
					"%s matches OTLP rules %d and %d of the catalog; a record must match one", what, found.n, r.n)}
			}
			found = r
		}
	}
	if found == nil {
		return nil, &events.Rejection{Reason: events.ReasonUnmapped, Message: fmt.Sprintf("no OTLP rule of the catalog maps %s", what)}
	}
	return found, nil
}

// fill sets e's usage fields from w by r: product, item, subject, amount, tier, contract, marketplace and
// attributes (the quantity, id and time are the signal's).
func (r *rule) fill(w *where, e *events.Event) *events.Rejection {
	e.SpecVersion, e.Type = events.SpecVersion, events.EventType
	e.Data.Product, e.Data.Item = r.Product, r.Item
	var rej *events.Rejection
	texts := []struct {
		dst  *string
		ref  events.OTLPRef
		name string
	}{{&e.Subject, r.Subject, "subject"}, {&e.Data.Contract, r.Contract, "contract"}, {&e.Data.Marketplace, r.Marketplace, "marketplace"}}
	for _, t := range texts {
		if *t.dst, rej = textField(w, t.ref, t.name); rej != nil {
			return rej
		}
	}
	if r.Amount != "" {
		a, rej := decimalField(w, r.Amount, events.AmountPrecision, events.ReasonBadAmount, "amount")
		if rej != nil {
			return rej
		}
		e.Data.Amount = &a
	}
	if e.Data.Tier, rej = tierField(w, r.Tier); rej != nil {
		return rej
	}
	return r.fillAttributes(w, e)
}

func (r *rule) fillAttributes(w *where, e *events.Event) *events.Rejection {
	for _, name := range r.attrNames {
		v, rej := textField(w, r.Attributes[name], "attributes."+name)
		if rej != nil {
			return rej
		}
		if e.Data.Attributes == nil {
			e.Data.Attributes = make(map[string]string, len(r.Attributes))
		}
		e.Data.Attributes[name] = v
	}
	return nil
}

// textField reads the text ref names for the event's field name; an empty ref gives "".
func textField(w *where, ref events.OTLPRef, name string) (string, *events.Rejection) {
	if ref == "" {
		return "", nil
	}
	v := w.get(ref)
	s, ok := text(v)
	switch {
	case v == nil:
		return "", &events.Rejection{Reason: events.ReasonMissingField, Field: string(ref), Message: fmt.Sprintf("%s: %s is missing", name, ref)}
	case !ok:
		return "", &events.Rejection{Reason: events.ReasonBadAttribute, Field: string(ref), Message: fmt.Sprintf("%s: %s is not a string, number or bool", name, ref)}
	}
	return s, nil
}

// decimalField reads the exact decimal ref names.
func decimalField(w *where, ref events.OTLPRef, precision int, reason events.Reason, name string) (events.Decimal, *events.Rejection) {
	v := w.get(ref)
	if v == nil {
		return events.Decimal{}, &events.Rejection{Reason: events.ReasonMissingField, Field: string(ref), Message: fmt.Sprintf("%s: %s is missing", name, ref)}
	}
	d, err := decimalOf(v, precision)
	if err != nil {
		return events.Decimal{}, &events.Rejection{Reason: reason, Field: string(ref), Message: fmt.Sprintf("%s: %s: %v", name, ref, err)}
	}
	return d, nil
}

// tierField reads a tier: an integer of at least 1 (as int, string or integral double).
func tierField(w *where, ref events.OTLPRef) (int, *events.Rejection) {
	if ref == "" {
		return 0, nil
	}
	d, rej := decimalField(w, ref, 0, events.ReasonBadTier, "tier")
	if rej != nil {
		return 0, rej
	}
	n, err := strconv.Atoi(d.String())
	if err != nil || n < 1 {
		return 0, &events.Rejection{Reason: events.ReasonBadTier, Field: string(ref), Message: fmt.Sprintf("tier: %s is %s, want an integer ≥ 1", ref, d)}
	}
	return n, nil
}

// sourceOf is the events' source for a resource: otlp://[<service.namespace>/]<service.name>/<signal>.
func sourceOf(resource []*commonpb.KeyValue, signal events.OTLPSignal) (string, *events.Rejection) {
	name, ok := text(lookup(resource, "service.name"))
	if !ok || strings.TrimSpace(name) == "" {
		return "", &events.Rejection{Reason: events.ReasonMissingField, Field: "resource.service.name",
			Message: "the resource has no service.name: it names the events' source (otlp://<service.name>/…), which API keys are bound to"}
	}
	if ns, ok := text(lookup(resource, "service.namespace")); ok && ns != "" {
		name = ns + "/" + name
	}
	return "otlp://" + name + "/" + string(signal), nil
}
