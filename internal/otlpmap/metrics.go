package otlpmap

import (
	"fmt"
	"time"

	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// CountPoints is the number of data points of req.
func CountPoints(req *colmetricspb.ExportMetricsServiceRequest) int {
	n := 0
	for _, rm := range req.GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, mt := range sm.GetMetrics() {
				n += len(points(mt))
			}
		}
	}
	return n
}

// point is a data point of any kind, as mapping reads it.
type point struct {
	attrs       []*commonpb.KeyValue
	start, time uint64
	value       func(precision int) (events.Decimal, error) // the value billed
}

// billing is how a metric's points are billed.
type billing int

const (
	billDelta      billing = iota // each point's value is usage
	billCumulative                // each point's value is a running total since its start
	billLevel                     // each point's value is a level (gauge: value)
)

// points lists mt's data points, whatever its kind (their values are read later, by the rule's mode).
func points(mt *metricspb.Metric) []point {
	var out []point
	switch d := mt.GetData().(type) {
	case *metricspb.Metric_Sum:
		for _, p := range d.Sum.GetDataPoints() {
			out = append(out, numberPoint(p))
		}
	case *metricspb.Metric_Gauge:
		for _, p := range d.Gauge.GetDataPoints() {
			out = append(out, numberPoint(p))
		}
	case *metricspb.Metric_Histogram:
		for _, p := range d.Histogram.GetDataPoints() {
			out = append(out, point{attrs: p.GetAttributes(), start: p.GetStartTimeUnixNano(), time: p.GetTimeUnixNano(),
				value: histogramValue(p.GetCount(), p.Sum)})
		}
	case *metricspb.Metric_ExponentialHistogram:
		for _, p := range d.ExponentialHistogram.GetDataPoints() {
			out = append(out, point{attrs: p.GetAttributes(), start: p.GetStartTimeUnixNano(), time: p.GetTimeUnixNano(),
				value: histogramValue(p.GetCount(), p.Sum)})
		}
	case *metricspb.Metric_Summary:
		for _, p := range d.Summary.GetDataPoints() {
			out = append(out, point{attrs: p.GetAttributes(), start: p.GetStartTimeUnixNano(), time: p.GetTimeUnixNano()})
		}
	}
	return out
}

func numberPoint(p *metricspb.NumberDataPoint) point {
	return point{attrs: p.GetAttributes(), start: p.GetStartTimeUnixNano(), time: p.GetTimeUnixNano(),
		value: func(precision int) (events.Decimal, error) {
			switch v := p.GetValue().(type) {
			case *metricspb.NumberDataPoint_AsInt:
				return events.DecimalFromInt(v.AsInt), nil
			case *metricspb.NumberDataPoint_AsDouble:
				return exactDouble(v.AsDouble, precision)
			}
			return events.Decimal{}, fmt.Errorf("the point has no value")
		}}
}

// histogramValue reads a histogram's count (precision < 0 never happens: the mode is chosen by the
// caller through histogramMode) or its sum.
func histogramValue(count uint64, sum *float64) func(int) (events.Decimal, error) {
	return func(precision int) (events.Decimal, error) {
		if precision == histogramCountPrecision {
			return decimalOfUint(count), nil
		}
		if sum == nil {
			return events.Decimal{}, fmt.Errorf("the histogram point has no sum")
		}
		return exactDouble(*sum, precision)
	}
}

// histogramCountPrecision asks a histogram point's value function for its count.
const histogramCountPrecision = -1

// Metrics maps every data point of req, in order, and gives each to emit.
func (m *Mapper) Metrics(req *colmetricspb.ExportMetricsServiceRequest, emit Emit) {
	i := 0
	for _, rm := range req.GetResourceMetrics() {
		res := rm.GetResource().GetAttributes()
		source, srej := sourceOf(res, events.SignalMetrics)
		var base identity
		base.attrs(res)
		for _, sm := range rm.GetScopeMetrics() {
			scope := identity{b: append([]byte(nil), base.b...)}
			scope.scope(sm.GetScope())
			for _, mt := range sm.GetMetrics() {
				for _, p := range points(mt) {
					w := where{resource: res, scope: sm.GetScope(), attrs: p.attrs}
					e, rej := m.pointEvent(&w, mt, &p, scope.b)
					e.Source = source
					if srej != nil {
						rej = srej
					}
					emit(i, e, rej)
					i++
				}
			}
		}
	}
}

// pointEvent maps one data point of mt; prefix is the identity of its resource and scope.
func (m *Mapper) pointEvent(w *where, mt *metricspb.Metric, p *point, prefix []byte) (events.Event, *events.Rejection) {
	var e events.Event
	id := identity{b: append(make([]byte, 0, len(prefix)+128), prefix...)}
	id.str(mt.GetName())
	id.attrs(p.attrs)
	id.u64(p.start)
	series := id.sum("")
	id.u64(p.time)
	e.ID = id.sum("p-")
	r, rej := pick(w, fmt.Sprintf("metric %q", clip(mt.GetName())), m.metrics[mt.GetName()])
	if rej != nil {
		return e, rej
	}
	mode, precision, rej := r.billingOf(mt)
	if rej != nil {
		return e, rej
	}
	if rej = r.fill(w, &e); rej != nil {
		return e, rej
	}
	if e.Data.Quantity, rej = pointValue(p, precision); rej != nil {
		return e, rej
	}
	if e.Time, rej = pointTime(p.time, "time_unix_nano"); rej != nil {
		return e, rej
	}
	return e, r.setBilling(&e, mode, p, series)
}

// setBilling gives e what its billing mode needs: a start before the time for deltas and running totals,
// and the series and the "c-" id of a running total's point.
func (r *rule) setBilling(e *events.Event, mode billing, p *point, series string) *events.Rejection {
	if mode == billLevel {
		return nil
	}
	start, rej := pointTime(p.start, "start_time_unix_nano")
	if rej != nil {
		return rej
	}
	if !start.Before(e.Time) {
		return &events.Rejection{Reason: events.ReasonBadTime, Field: "start_time_unix_nano", Message: fmt.Sprintf(
			"the point's start %s is not before its time %s", start.Format(time.RFC3339Nano), e.Time.Format(time.RFC3339Nano))}
	}
	if mode == billCumulative {
		e.Data.Cumulative = &events.Cumulative{Series: series, Start: start}
		var id identity
		id.str(series)
		id.u64(p.time)
		e.ID = id.sum("c-")
	}
	return nil
}

// billingOf is how r bills mt's points, and the precision their values are read at (histogramCountPrecision
// for a histogram's count); a kind r does not say how to bill is unsupported_metric.
func (r *rule) billingOf(mt *metricspb.Metric) (billing, int, *events.Rejection) {
	unsupported := func(format string, args ...any) (billing, int, *events.Rejection) {
		return 0, 0, &events.Rejection{Reason: events.ReasonUnsupportedMetric, Message: fmt.Sprintf("metric %q: ", clip(mt.GetName())) + fmt.Sprintf(format, args...)}
	}
	switch d := mt.GetData().(type) {
	case *metricspb.Metric_Sum:
		return r.sumBilling(d.Sum, unsupported)
	case *metricspb.Metric_Gauge:
		if r.Gauge != events.GaugeValue {
			return unsupported("a gauge is billed only by a rule with gauge: value (OTLP rule %d has none)", r.n)
		}
		return billLevel, r.precision, nil
	case *metricspb.Metric_Histogram:
		return r.histogramBilling(d.Histogram.GetAggregationTemporality(), unsupported)
	case *metricspb.Metric_ExponentialHistogram:
		return r.histogramBilling(d.ExponentialHistogram.GetAggregationTemporality(), unsupported)
	}
	return unsupported("summaries and metrics without data are not billed")
}

type unsupportedFunc func(format string, args ...any) (billing, int, *events.Rejection)

func (r *rule) sumBilling(s *metricspb.Sum, unsupported unsupportedFunc) (billing, int, *events.Rejection) {
	t := s.GetAggregationTemporality()
	switch {
	case r.Gauge == events.GaugeValue && t == metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE && !s.GetIsMonotonic():
		return billLevel, r.precision, nil
	case r.Gauge == events.GaugeValue:
		return unsupported("OTLP rule %d bills levels (gauge: value): only gauges and non-monotonic cumulative sums are levels", r.n)
	case t == metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA:
		return billDelta, r.precision, nil
	case t == metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE && s.GetIsMonotonic():
		return billCumulative, r.precision, nil
	case t == metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE:
		return unsupported("a non-monotonic cumulative sum is a level, billed only by a rule with gauge: value for a max, min or last item")
	}
	return unsupported("the sum's aggregation temporality is unspecified")
}

func (r *rule) histogramBilling(t metricspb.AggregationTemporality, unsupported unsupportedFunc) (billing, int, *events.Rejection) {
	precision := r.precision
	switch r.Histogram {
	case events.HistogramCount:
		precision = histogramCountPrecision
	case events.HistogramSum:
	default:
		return unsupported("a histogram is billed only by a rule with histogram: count or sum (OTLP rule %d has none)", r.n)
	}
	switch t {
	case metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA:
		return billDelta, precision, nil
	case metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE:
		return billCumulative, precision, nil
	}
	return unsupported("the histogram's aggregation temporality is unspecified")
}

func pointValue(p *point, precision int) (events.Decimal, *events.Rejection) {
	if p.value == nil {
		return events.Decimal{}, &events.Rejection{Reason: events.ReasonUnsupportedMetric, Message: "the point has no billable value"}
	}
	d, err := p.value(precision)
	if err != nil {
		return events.Decimal{}, &events.Rejection{Reason: events.ReasonBadQuantity, Field: "value", Message: "value: " + err.Error()}
	}
	return d, nil
}

// pointTime reads a point's time (or start) field.
func pointTime(ns uint64, field string) (time.Time, *events.Rejection) {
	if ns == 0 || ns > 1<<63-1 {
		return time.Time{}, &events.Rejection{Reason: events.ReasonMissingField, Field: field, Message: field + " is not set"}
	}
	return time.Unix(0, int64(ns)).UTC(), nil
}
