package events

import (
	"fmt"
	"strings"
	"time"
)

// check validates p, filling defaults; it returns one line per problem.
func (p *Product) check(path string) []string {
	var pr problemList
	pr.path = path
	p.checkIdentity(&pr)
	p.checkTime(&pr)
	if p.AssetSearch == "" {
		p.AssetSearch = DefaultAssetSearch
	} else if p.AssetSearch != DefaultAssetSearch && !validParamSearch(p.AssetSearch) {
		pr.addf("asset_search", "%q: want asset.id or parameter.<param_id>", p.AssetSearch)
	}
	if len(p.Items) == 0 {
		pr.addf("items", "at least one item is required")
	}
	p.byMPN = make(map[string]int, len(p.Items))
	for j := range p.Items {
		ipath := fmt.Sprintf("items[%d]", j)
		p.Items[j].check(&pr, ipath)
		if k, dup := p.byMPN[p.Items[j].MPN]; dup && p.Items[j].MPN != "" {
			pr.addf(ipath+".mpn", "%q duplicates items[%d]", p.Items[j].MPN, k)
		} else {
			p.byMPN[p.Items[j].MPN] = j
		}
	}
	return pr.list
}

func (p *Product) checkIdentity(pr *problemList) {
	if !strings.HasPrefix(p.ID, "PRD-") || len(p.ID) == 4 {
		pr.addf("id", "%q: want a Connect product id PRD-…", p.ID)
	}
	switch p.Schema {
	case SchemaQT, SchemaTR, SchemaCR, SchemaPR:
	default:
		pr.addf("schema", "%q: want QT, TR, CR or PR", p.Schema)
	}
	if !isCurrency(p.Currency) {
		pr.addf("currency", "%q: want an ISO 4217 code such as USD", p.Currency)
	}
	if len(p.Contracts) == 0 {
		pr.addf("contracts", "at least one distribution contract CRD-… is required")
	}
	checkIDList(pr, "contracts", p.Contracts, "CRD-")
	checkIDList(pr, "marketplaces", p.Marketplaces, "MP-")
}

func checkIDList(pr *problemList, field string, ids []string, prefix string) {
	seen := make(map[string]bool, len(ids))
	for i, id := range ids {
		if !strings.HasPrefix(id, prefix) || len(id) == len(prefix) {
			pr.addf(fmt.Sprintf("%s[%d]", field, i), "%q: want %s…", id, prefix)
		} else if seen[id] {
			pr.addf(fmt.Sprintf("%s[%d]", field, i), "%q is listed twice", id)
		}
		seen[id] = true
	}
}

func (p *Product) checkTime(pr *problemList) {
	if p.Location == nil {
		if p.TimeZone == "" {
			p.TimeZone = "UTC"
		}
		loc, err := time.LoadLocation(p.TimeZone)
		if err != nil {
			pr.addf("time_zone", "%q is not an IANA time zone", p.TimeZone)
			loc = time.UTC
		}
		p.Location = loc
	} else if p.TimeZone == "" {
		p.TimeZone = p.Location.String()
	}
	p.Period.Location = p.Location
	p.Period.check(pr)
	if p.MaxEventAge == 0 {
		p.MaxEventAge = DefaultMaxEventAge
	}
	if p.AllowedLateness < 0 || p.MaxEventAge < 0 {
		pr.addf("allowed_lateness", "durations must not be negative")
	} else if p.AllowedLateness >= p.MaxEventAge {
		pr.addf("allowed_lateness", "%v must be less than max_event_age %v", p.AllowedLateness, p.MaxEventAge)
	}
}

func (s *PeriodSpec) check(pr *problemList) {
	wantZero := func(field string, set bool) {
		if set {
			pr.addf("period."+field, "not used by period kind %q", s.Kind)
		}
	}
	switch s.Kind {
	case PeriodHourly, PeriodDaily, PeriodMonthly:
		wantZero("cutoff_day", s.CutoffDay != 0)
		wantZero("days_before_end", s.DaysBeforeEnd != 0)
		wantZero("every", s.Every != 0)
	case PeriodMonthlyCutoff:
		wantZero("every", s.Every != 0)
		s.checkCutoff(pr)
	case PeriodFixed:
		wantZero("cutoff_day", s.CutoffDay != 0)
		wantZero("days_before_end", s.DaysBeforeEnd != 0)
		if s.Every < time.Second || s.Every%time.Second != 0 {
			pr.addf("period.every", "%v: want a whole number of seconds, at least 1s", s.Every)
		}
	default:
		pr.addf("period.kind", "%q: want hourly, daily, monthly, monthly_cutoff or fixed", s.Kind)
	}
}

func (s *PeriodSpec) checkCutoff(pr *problemList) {
	switch {
	case s.CutoffDay != 0 && s.DaysBeforeEnd != 0:
		pr.addf("period", "set cutoff_day or days_before_end, not both")
	case s.CutoffDay == 0 && s.DaysBeforeEnd == 0:
		pr.addf("period", "monthly_cutoff needs cutoff_day (1..28) or days_before_end (1..27)")
	case s.CutoffDay < 0 || s.CutoffDay > 28:
		pr.addf("period.cutoff_day", "%d: want 1..28", s.CutoffDay)
	case s.DaysBeforeEnd < 0 || s.DaysBeforeEnd > 27:
		pr.addf("period.days_before_end", "%d: want 1..27", s.DaysBeforeEnd)
	}
}

func (it *Item) check(pr *problemList, path string) {
	if it.MPN == "" {
		pr.addf(path+".mpn", "required")
	}
	if it.Type == "" {
		it.Type = ItemTypePPU
	} else if it.Type != ItemTypePPU && it.Type != ItemTypeReservation {
		pr.addf(path+".type", "%q: want ppu or reservation", it.Type)
	}
	if !it.Precision.Valid() {
		pr.addf(path+".precision", "%d: want 0, 1, 2, 4 or 8 decimals", int(it.Precision))
	}
	it.checkAggregation(pr, path)
	switch it.ItemSearch {
	case "":
		it.ItemSearch = DefaultItemSearch
	case DefaultItemSearch, "item.local_id", "item.global_id":
	default:
		pr.addf(path+".item_search", "%q: want item.mpn, item.local_id or item.global_id", it.ItemSearch)
	}
	if it.SearchValue == "" {
		it.SearchValue = it.MPN
	}
}

func (it *Item) checkAggregation(pr *problemList, path string) {
	switch it.Aggregation {
	case AggregationSum, AggregationCount, AggregationMax, AggregationMin, AggregationLast:
		if it.UniqueAttribute != "" {
			pr.addf(path+".unique_attribute", "only used by unique_count")
		}
	case AggregationUniqueCount:
		if it.UniqueAttribute == "" {
			pr.addf(path+".unique_attribute", "required by unique_count")
		}
	default:
		pr.addf(path+".aggregation", "%q: want sum, count, max, min, last or unique_count", it.Aggregation)
	}
}

func validParamSearch(s string) bool {
	id, ok := strings.CutPrefix(s, "parameter.")
	return ok && id != "" && !strings.ContainsAny(id, " \t\n")
}

func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// problemList collects "path.field: message" lines.
type problemList struct {
	path string
	list []string
}

func (p *problemList) addf(field, format string, args ...any) {
	p.list = append(p.list, p.path+"."+field+": "+fmt.Sprintf(format, args...))
}
