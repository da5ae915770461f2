package connectemu

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// Aggregates sum, per (asset, item), the usage of every record still counted (valid, approved or closed):
// consumed over all of them, accepted over approved and closed ones, and the amounts. The spec types
// consumed and accepted as integers: they are scaled by the item precision (×10^decimals), as the
// CloudBlue Commerce connector reads them.

// listAggregates serves GET /usage/aggregates and GET /assets/{asset}/usage/aggregates.
func (e *Emulator) listAggregates(w http.ResponseWriter, r *http.Request, _ caller) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	e.mu.Lock()
	aggs := e.aggregatesLocked(r.PathValue("asset"))
	e.mu.Unlock()
	pg, err := aggregateResource.List(q, aggs)
	if err != nil {
		return rqlError(err)
	}
	items := make([]usageapi.Aggregate, len(pg.Items))
	for i, a := range pg.Items {
		items[i] = a.out
	}
	writeList(w, pg.ContentRange, items)
	return nil
}

// aggSum accumulates one aggregate.
type aggSum struct {
	agg                *aggregate
	consumed, accepted events.Decimal
	amount             events.Decimal
	hasAmount          bool
	places             int
}

// aggregatesLocked computes the aggregates, of one asset when asset is not empty.
func (e *Emulator) aggregatesLocked(asset string) []*aggregate {
	sums := map[[2]string]*aggSum{}
	var keys [][2]string
	for _, r := range e.st.records {
		if asset != "" && r.Asset.ID != asset || !counted(r.Status) {
			continue
		}
		key := [2]string{r.Asset.ID, r.Item.ID}
		s := sums[key]
		if s == nil {
			s = e.newAggSum(r)
			sums[key] = s
			keys = append(keys, key)
		}
		s.add(r)
	}
	slices.SortFunc(keys, func(a, b [2]string) int { return strings.Compare(a[0]+"\x00"+a[1], b[0]+"\x00"+b[1]) })
	out := make([]*aggregate, len(keys))
	for i, k := range keys {
		out[i] = sums[k].finish()
	}
	return out
}

func counted(s usageapi.RecordStatus) bool {
	return s == usageapi.RecordStatusValid || s == usageapi.RecordStatusApproved || s == usageapi.RecordStatusClosed
}

func (e *Emulator) newAggSum(r *recordState) *aggSum {
	item, asset := r.Item, r.Asset
	currency := ""
	if f := e.st.fileByID[r.FileID]; f != nil {
		currency = f.Currency
	}
	return &aggSum{
		agg: &aggregate{
			out:      usageapi.Aggregate{Item: &item, Asset: &asset, Currency: currency},
			itemType: item.Type, localID: item.LocalID,
		},
		places: precisionScale(item.Precision),
	}
}

func (s *aggSum) add(r *recordState) {
	usage, err := events.ParseDecimal(r.Usage)
	if err != nil {
		return
	}
	s.consumed = s.consumed.Add(usage)
	if r.Status != usageapi.RecordStatusValid {
		s.accepted = s.accepted.Add(usage)
	}
	if a, err := events.ParseDecimal(r.Amount); err == nil {
		s.amount, s.hasAmount = s.amount.Add(a), true
	}
	if r.Created.After(s.agg.lastSeen) {
		s.agg.lastSeen = r.Created
	}
}

func (s *aggSum) finish() *aggregate {
	a := s.agg
	a.out.Consumed = json.Number(scaled(s.consumed, s.places))
	a.out.Accepted = json.Number(scaled(s.accepted, s.places))
	if s.hasAmount {
		a.out.Amount = json.Number(s.amount.String())
	}
	a.out.Events = &usageapi.AggregateEvents{LastReported: event(a.lastSeen, nil)}
	return a
}

// scaled returns d×10^places as decimal text, exactly (an integer when d has at most places decimals).
func scaled(d events.Decimal, places int) string {
	text := d.StringFixed(max(places, d.Scale()))
	intPart, frac, _ := strings.Cut(text, ".")
	shifted := intPart + frac[:places]
	if rest := frac[places:]; rest != "" {
		shifted += "." + rest
	}
	v, err := events.ParseDecimal(shifted)
	if err != nil {
		return d.String()
	}
	return v.String()
}
