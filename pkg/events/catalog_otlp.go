package events

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// OTLPSignal is the kind of OpenTelemetry data an OTLPRule maps.
type OTLPSignal string

// OTLP signals.
const (
	SignalLogs    OTLPSignal = "logs"
	SignalMetrics OTLPSignal = "metrics"
)

// OTLPRule says which OTLP log records or metric data points become usage events of one product item, and
// where each field of the event comes from. Rules are declared in the catalog, globally (each naming its
// product) or in a product (the product implied); docs/events.md, "OTLP". A record or point matched by no
// rule is rejected as unmapped, one matched by several as ambiguous_mapping.
type OTLPRule struct {
	Signal  OTLPSignal
	Product string
	Item    string
	// What it matches: a log record's event_name (logs; empty: any), a metric's name (metrics; required),
	// and attribute values (Match: every reference must hold exactly that value, as text).
	EventName string
	Metric    string
	Match     map[OTLPRef]string
	// Where the event's fields come from. Quantity is required for logs; metrics always bill the point's
	// value (OTLPValue). ID (logs only) names the record's own id; without it, the id is a hash of the
	// record's identity. Attributes feed the event's data.attributes (unique_count items).
	Subject     OTLPRef
	Quantity    OTLPRef
	Amount      OTLPRef
	Tier        OTLPRef
	Contract    OTLPRef
	Marketplace OTLPRef
	ID          OTLPRef
	Attributes  map[string]OTLPRef
	// How metrics other than sums are billed: Gauge "value" bills each gauge point (and each point of a
	// non-monotonic cumulative sum) as its value, for items that aggregate with max, min or last; Histogram
	// "count" or "sum" bills a histogram's count or sum like a monotonic sum of its temporality.
	Gauge     string
	Histogram string
}

// Values of OTLPRule.Gauge and OTLPRule.Histogram.
const (
	GaugeValue     = "value"
	HistogramCount = "count"
	HistogramSum   = "sum"
)

// OTLPRef is where a value of an OTLP record or point is found: "resource.<key>" (a resource attribute),
// "scope.<key>" (an instrumentation scope attribute), "attribute.<key>" (the record's or point's attribute),
// "body" (a log record's body), "value" (a data point's value); anything else is a literal value.
type OTLPRef string

// Kinds of OTLPRef.
const (
	RefLiteral   = "literal"
	RefResource  = "resource"
	RefScope     = "scope"
	RefAttribute = "attribute"
	RefBody      = "body"
	RefValue     = "value"
)

// OTLPValue is the reference to a data point's value.
const OTLPValue OTLPRef = RefValue

// Kind is the reference's kind and the attribute key it names (empty for body, value and literals).
func (r OTLPRef) Kind() (kind, key string) {
	s := string(r)
	switch s {
	case RefBody, RefValue:
		return s, ""
	}
	for _, k := range [...]string{RefResource, RefScope, RefAttribute} {
		if key, ok := strings.CutPrefix(s, k+"."); ok && key != "" {
			return k, key
		}
	}
	return RefLiteral, ""
}

// OTLPRules returns the catalog's OTLP rules: the global ones in order, then each product's.
func (c *Catalog) OTLPRules() []OTLPRule {
	if c == nil {
		return nil
	}
	return c.otlp
}

// otlpRuleFile is the file form of an OTLPRule.
type otlpRuleFile struct {
	Signal      string            `yaml:"signal" json:"signal"`
	Product     string            `yaml:"product" json:"product,omitempty"`
	Item        string            `yaml:"item" json:"item"`
	EventName   string            `yaml:"event_name" json:"event_name,omitempty"`
	Metric      string            `yaml:"metric" json:"metric,omitempty"`
	Match       map[string]string `yaml:"match" json:"match,omitempty"`
	Subject     string            `yaml:"subject" json:"subject"`
	Quantity    string            `yaml:"quantity" json:"quantity,omitempty"`
	Amount      string            `yaml:"amount" json:"amount,omitempty"`
	Tier        string            `yaml:"tier" json:"tier,omitempty"`
	Contract    string            `yaml:"contract" json:"contract,omitempty"`
	Marketplace string            `yaml:"marketplace" json:"marketplace,omitempty"`
	ID          string            `yaml:"id" json:"id,omitempty"`
	Attributes  map[string]string `yaml:"attributes" json:"attributes,omitempty"`
	Gauge       string            `yaml:"gauge" json:"gauge,omitempty"`
	Histogram   string            `yaml:"histogram" json:"histogram,omitempty"`
}

func (f *otlpRuleFile) rule(product string) OTLPRule {
	r := OTLPRule{
		Signal: OTLPSignal(f.Signal), Product: f.Product, Item: f.Item, EventName: f.EventName, Metric: f.Metric,
		Subject: OTLPRef(f.Subject), Quantity: OTLPRef(f.Quantity), Amount: OTLPRef(f.Amount), Tier: OTLPRef(f.Tier),
		Contract: OTLPRef(f.Contract), Marketplace: OTLPRef(f.Marketplace), ID: OTLPRef(f.ID),
		Gauge: f.Gauge, Histogram: f.Histogram,
	}
	if product != "" {
		r.Product = product
	}
	if len(f.Match) > 0 {
		r.Match = make(map[OTLPRef]string, len(f.Match))
		for k, v := range f.Match {
			r.Match[OTLPRef(k)] = v
		}
	}
	if len(f.Attributes) > 0 {
		r.Attributes = make(map[string]OTLPRef, len(f.Attributes))
		for k, v := range f.Attributes {
			r.Attributes[k] = OTLPRef(v)
		}
	}
	return r
}

// otlpRules converts the rules of the file: the global ones (rules) and those of each product (in
// products[i].OTLP, whose product is implied). A product rule that names a product is a problem.
func otlpRules(global []otlpRuleFile, products []productFile, problems *[]string) ([]OTLPRule, []string) {
	var rules []OTLPRule
	var paths []string
	for i := range global {
		rules, paths = append(rules, global[i].rule("")), append(paths, fmt.Sprintf("otlp[%d]", i))
	}
	for i := range products {
		for j := range products[i].OTLP {
			path := fmt.Sprintf("products[%d].otlp[%d]", i, j)
			if products[i].OTLP[j].Product != "" {
				*problems = append(*problems, path+".product: implied by the product; name it only in global rules")
			}
			rules, paths = append(rules, products[i].OTLP[j].rule(products[i].ID)), append(paths, path)
		}
	}
	return rules, paths
}

// checkOTLP checks every rule against the catalog's products, one problem line each.
func (c *Catalog) checkOTLP(rules []OTLPRule, paths []string) []string {
	var problems []string
	for i := range rules {
		pr := problemList{path: paths[i]}
		c.checkOTLPRule(&rules[i], &pr)
		problems = append(problems, pr.list...)
	}
	return problems
}

func (c *Catalog) checkOTLPRule(r *OTLPRule, pr *problemList) {
	p, ok := c.Product(r.Product)
	if !ok {
		pr.addf("product", "%q is not a product of the catalog", r.Product)
		return
	}
	it, ok := p.Item(r.Item)
	if !ok {
		pr.addf("item", "product %s has no item %q", p.ID, r.Item)
		return
	}
	switch r.Signal {
	case SignalLogs:
		r.checkLogs(pr)
	case SignalMetrics:
		r.checkMetrics(p, it, pr)
	default:
		pr.addf("signal", "%q: want logs or metrics", r.Signal)
		return
	}
	r.checkFields(p, it, pr)
}

func (r *OTLPRule) checkLogs(pr *problemList) {
	if r.EventName == "" && len(r.Match) == 0 {
		pr.addf("event_name", "a logs rule needs event_name or match, or it would bill every log record")
	}
	if r.Metric != "" || r.Gauge != "" || r.Histogram != "" {
		pr.addf("metric", "metric, gauge and histogram are for metrics rules")
	}
	if r.Quantity == "" {
		pr.addf("quantity", "required: a reference (attribute.<key>, resource.<key>, body) or a literal such as 1")
	}
}

func (r *OTLPRule) checkMetrics(p *Product, it *Item, pr *problemList) {
	if r.Metric == "" {
		pr.addf("metric", "required: the metric's name")
	}
	if r.EventName != "" || r.ID != "" {
		pr.addf("event_name", "event_name and id are for logs rules (a data point's id is its series and times)")
	}
	if r.Quantity != "" && r.Quantity != OTLPValue {
		pr.addf("quantity", "a metrics rule bills the point's value; leave quantity out")
	}
	r.Quantity = OTLPValue
	if r.Amount != "" || p.Schema.RequiresAmount() {
		pr.addf("amount", "metrics rules feed QT and TR products, without amounts (product %s is %s); send CR and PR usage as log records", p.ID, p.Schema)
	}
	switch r.Gauge {
	case "":
		if it.Aggregation != AggregationSum {
			pr.addf("item", "item %s aggregates with %s: sums and histograms bill deltas, which need a sum item (or set gauge: value for a max, min or last item)", it.MPN, it.Aggregation)
		}
	case GaugeValue:
		if it.Aggregation != AggregationMax && it.Aggregation != AggregationMin && it.Aggregation != AggregationLast {
			pr.addf("gauge", "gauge: value bills a level, which needs an item that aggregates with max, min or last (%s has %s)", it.MPN, it.Aggregation)
		}
		if r.Histogram != "" {
			pr.addf("histogram", "a gauge rule bills levels; histograms need a sum item")
		}
	default:
		pr.addf("gauge", "%q: want value (or leave it out)", r.Gauge)
	}
	if h := r.Histogram; h != "" && h != HistogramCount && h != HistogramSum {
		pr.addf("histogram", "%q: want count or sum (or leave it out)", h)
	}
}

// checkFields checks the references: where each may point, the subject, the literals and what the
// product's schema and the item's aggregation need.
func (r *OTLPRule) checkFields(p *Product, it *Item, pr *problemList) {
	if r.Subject == "" {
		pr.addf("subject", "required: where the subscription is, such as resource.customer.id")
	}
	fields := []struct {
		name string
		ref  OTLPRef
	}{{"subject", r.Subject}, {"quantity", r.Quantity}, {"amount", r.Amount}, {"tier", r.Tier},
		{"contract", r.Contract}, {"marketplace", r.Marketplace}, {"id", r.ID}}
	for _, f := range fields {
		r.checkRef(pr, f.name, f.ref)
	}
	for _, name := range slices.Sorted(maps.Keys(r.Attributes)) {
		r.checkRef(pr, "attributes."+name, r.Attributes[name])
	}
	for _, ref := range slices.Sorted(maps.Keys(r.Match)) {
		if k, _ := ref.Kind(); k != RefResource && k != RefScope && k != RefAttribute {
			pr.addf("match", "%q: match on resource.<key>, scope.<key> or attribute.<key>", ref)
		}
	}
	r.checkLiterals(pr)
	switch {
	case p.Schema == SchemaTR && r.Tier == "":
		pr.addf("tier", "product %s is TR: its events need a tier", p.ID)
	case p.Schema != SchemaTR && r.Tier != "":
		pr.addf("tier", "product %s is %s: it has no tiers", p.ID, p.Schema)
	}
	if it.Aggregation == AggregationUniqueCount && r.Attributes[it.UniqueAttribute] == "" {
		pr.addf("attributes", "item %s counts distinct values of %q: map it (attributes: {%s: attribute.<key>})", it.MPN, it.UniqueAttribute, it.UniqueAttribute)
	}
}

// checkRef reports a reference that the rule's signal has no such value for.
func (r *OTLPRule) checkRef(pr *problemList, field string, ref OTLPRef) {
	kind, _ := ref.Kind()
	switch {
	case ref == "":
	case kind == RefBody && r.Signal != SignalLogs:
		pr.addf(field, "body is a log record's")
	case kind == RefValue && (r.Signal != SignalMetrics || field != "quantity"):
		pr.addf(field, "value is a data point's, and only its quantity")
	case kind == RefLiteral && field == "id":
		pr.addf(field, "%q: an id names where each record's id is (attribute.<key>, resource.<key>, body)", ref)
	}
}

// checkLiterals checks literal quantities, amounts and tiers.
func (r *OTLPRule) checkLiterals(pr *problemList) {
	if k, _ := r.Quantity.Kind(); k == RefLiteral && r.Quantity != "" {
		if _, err := ParseDecimal(string(r.Quantity)); err != nil {
			pr.addf("quantity", "%q is neither a reference nor a decimal", r.Quantity)
		}
	}
	if k, _ := r.Amount.Kind(); k == RefLiteral && r.Amount != "" {
		if _, err := ParseDecimal(string(r.Amount)); err != nil {
			pr.addf("amount", "%q is neither a reference nor a decimal", r.Amount)
		}
	}
	if k, _ := r.Tier.Kind(); k == RefLiteral && r.Tier != "" {
		if n, err := strconv.Atoi(string(r.Tier)); err != nil || n < 1 {
			pr.addf("tier", "%q is neither a reference nor a tier ≥ 1", r.Tier)
		}
	}
}
