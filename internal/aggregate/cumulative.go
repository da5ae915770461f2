package aggregate

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// seriesKey identifies a cumulative series: the events' source (bound to one producer by ingest's API keys,
// so no producer can touch another's series) and their data.cumulative.series.
type seriesKey struct{ source, series string }

// seriesState is the last point of a cumulative series the fold took.
type seriesState struct {
	at     int64          // the point's time, Unix nanoseconds
	total  events.Decimal // its running total
	expire int64          // when the series is forgotten: its last point's period end + the product's max event age
}

// cumulate turns the running total of a cumulative event (e.Data.Cumulative) into the delta from its
// series' previous point, in e.Data.Quantity and p.q, and records the point as the series' last. It reports
// whether there is anything to fold: a point not after the series' last one is covered by it (the later
// total includes it) and a delta of zero adds nothing. A rejection is a dead letter: the total fell without
// a new start time (cumulative_decrease), or the series is new to the fold but started at least the product's
// max event age ago, so the fold may have forgotten it and cannot tell how much of its total was counted
// (cumulative_baseline). Either way the point becomes the series' last, so later points count from it.
func (s *State) cumulate(e *events.Event, p *prepared, b *bucket) (bool, *events.Rejection) {
	c := e.Data.Cumulative
	k := seriesKey{e.Source, c.Series}
	at := e.Time.UnixNano()
	st := s.series[k]
	var rej *events.Rejection
	switch {
	case st != nil && at <= st.at:
		return false, nil
	case st == nil:
		st = &seriesState{}
		k.source, k.series = strings.Clone(k.source), strings.Clone(k.series)
		s.series[k] = st
		if age := p.ps.p.MaxEventAge; s.clock-c.Start.UnixNano() >= int64(age) {
			rej = reject(events.ReasonCumulativeBaseline, "data.cumulative.start", "series %s started at %s, %v or more before the first point "+
				"the aggregator has of it: its total %s only sets the baseline", c.Series, c.Start.Format(time.RFC3339Nano), age, e.Data.Quantity)
		}
	}
	delta := e.Data.Quantity.Sub(st.total)
	if rej == nil && delta.Sign() < 0 {
		rej = reject(events.ReasonCumulativeDecrease, "data.quantity", "series %s fell from %s to %s without a new start time: "+
			"the total since the previous point is unknown", c.Series, st.total, e.Data.Quantity)
	}
	st.at, st.total, st.expire = at, e.Data.Quantity, b.expire
	s.seriesDue = min(s.seriesDue, b.expire)
	if rej != nil || delta.IsZero() {
		return false, rej
	}
	e.Data.Quantity = delta
	p.q = fixedOf(&delta, int(p.it.Precision))
	return true, nil
}

// expireSeries forgets the series whose last point's period has passed the max event age: any point of
// theirs up to that one is a dead letter (too_late) by now.
func (s *State) expireSeries() {
	s.seriesDue = never
	for k, st := range s.series {
		if st.expire <= s.clock {
			delete(s.series, k)
		} else {
			s.seriesDue = min(s.seriesDue, st.expire)
		}
	}
}

// encodeSeries writes the series sorted by key.
func (s *State) encodeSeries(e *encoder) {
	keys := make([]seriesKey, 0, len(s.series))
	for k := range s.series {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b seriesKey) int {
		return cmp.Or(strings.Compare(a.source, b.source), strings.Compare(a.series, b.series))
	})
	e.uvarint(uint64(len(keys)))
	for _, k := range keys {
		st := s.series[k]
		e.str(k.source)
		e.str(k.series)
		e.varint(st.at)
		e.str(st.total.String())
		e.varint(st.expire)
	}
}

// decodeSeries reads what encodeSeries wrote.
func (s *State) decodeSeries(d *decoder) {
	n := d.count(5)
	for range n {
		k := seriesKey{source: d.str(), series: d.str()}
		st := &seriesState{at: d.varint()}
		total, err := events.ParseDecimal(d.str())
		if err != nil {
			d.fail("series total")
			return
		}
		st.total, st.expire = total, d.varint()
		s.series[k] = st
		s.seriesDue = min(s.seriesDue, st.expire)
	}
}
