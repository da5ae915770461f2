package ingest

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// metrics are ingest's Prometheus instruments.
type metrics struct {
	events   *prometheus.CounterVec   // by status and reason
	requests *prometheus.HistogramVec // request latency by HTTP status code and route
	delay    prometheus.Histogram     // event time → durably stored
	packets  prometheus.Counter
	reading  prometheus.Gauge       // requests whose body is being read (no slot held yet)
	kept     *prometheus.CounterVec // dead letters written (Config.KeepRejected), by stage and reason
	totals   [3]atomic.Uint64       // accepted, duplicate, rejected: the same counts, for the status heartbeat
}

// newMetrics registers ingest's metrics; with keepRejected, usagepipe_dead_letters_total{stage="ingest"} too,
// at zero for every curable reason.
func newMetrics(reg prometheus.Registerer, keepRejected bool) (*metrics, error) {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "usagepipe_ingest_events_total",
			Help: "Events answered, by status (accepted, duplicate, rejected) and rejection reason.",
		}, []string{"status", "reason"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "usagepipe_ingest_request_duration_seconds",
			Help:    "POST /v1/events, /v1/logs and /v1/metrics latency, from request to response (after every packet is acknowledged), by status code and route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"code", "route"}),
		delay: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "usagepipe_ingest_delay_seconds",
			Help:    "Ingest delay of stored events: from the event's time to its durable storage.",
			Buckets: []float64{.1, .5, 1, 5, 15, 60, 300, 900, 3600, 6 * 3600, 24 * 3600},
		}),
		packets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "usagepipe_ingest_packets_total",
			Help: "Event packets published to USAGE_EVENTS and acknowledged.",
		}),
		reading: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "usagepipe_ingest_requests_reading",
			Help: "POST /v1/events whose body is being read, before they take a slot (slow or stalled uploads show here).",
		}),
	}
	collectors := []prometheus.Collector{m.events, m.requests, m.delay, m.packets, m.reading}
	if keepRejected {
		m.kept = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "usagepipe_dead_letters_total",
			Help: "Dead letters written, by stage and reason (ingest: rejected events kept with --keep-rejected).",
		}, []string{"stage", "reason"})
		for _, r := range events.Reasons {
			if r.Curable() {
				m.kept.WithLabelValues(events.StageIngest, string(r))
			}
		}
		collectors = append(collectors, m.kept)
	}
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.events.WithLabelValues(string(events.StatusAccepted), "")
	m.events.WithLabelValues(string(events.StatusDuplicate), "")
	for _, r := range events.Reasons {
		m.events.WithLabelValues(string(events.StatusRejected), string(r)) // every series at zero from the start
	}
	return m, nil
}

// keptLetters counts the dead letters of kept rejections stored (acks[i] is kept[i]'s; one JetStream held
// already is not counted again).
func (m *metrics) keptLetters(kept []keptRejection, acks []bus.PubAck) {
	for i := range kept {
		if !acks[i].Duplicate {
			m.kept.WithLabelValues(events.StageIngest, string(kept[i].rej.Reason)).Inc()
		}
	}
}

// tally counts one request's results, then adds them to the counters with one label lookup per kind.
type tally map[[2]string]int

func (t tally) add(status, reason string) { t[[2]string{status, reason}]++ }

// addN counts n results of status and reason; n = 0 adds nothing.
func (t tally) addN(status, reason string, n int) {
	if n > 0 {
		t[[2]string{status, reason}] += n
	}
}

func (m *metrics) record(t tally) {
	for k, n := range t {
		m.events.WithLabelValues(k[0], k[1]).Add(float64(n))
		if i := statusIndex(k[0]); i >= 0 {
			m.totals[i].Add(uint64(n))
		}
	}
}

// statusIndex is the index of a status in metrics.totals (-1 for none).
func statusIndex(status string) int {
	switch events.Status(status) {
	case events.StatusAccepted:
		return 0
	case events.StatusDuplicate:
		return 1
	case events.StatusRejected:
		return 2
	}
	return -1
}

func (m *metrics) observeDelay(eventTime, stored time.Time) {
	m.delay.Observe(stored.Sub(eventTime).Seconds())
}
