package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/otlpmap"
	"github.com/usagepipe/usagepipe/internal/telemetry"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// Defaults of Config.
const (
	DefaultMaxBody        = 5 << 20
	DefaultMaxBatch       = 1000
	DefaultPublishTimeout = 10 * time.Second
	DefaultRecentIDs      = 1 << 19
	DefaultRetryAfter     = 2 * time.Second
	DefaultMaxConcurrent  = 128
	DefaultMinBodyRate    = 16 << 10
	DefaultBodyGrace      = 5 * time.Second
	readyTimeout          = 2 * time.Second
)

// AnonymousWarning is logged at start (and printed by -validate) when ingest accepts requests without a key.
const AnonymousWarning = "ingest accepts every request without an API key, from any source (--allow-anonymous): " +
	"anyone who can reach it can report usage; give --api-keys or --api-keys-file outside a trusted network"

// Config tunes a Service. Zero values take the defaults.
type Config struct {
	Partitions     int           // P of events.Partition; must equal the provisioned topology's
	MaxBody        int64         // request body limit in bytes (413 beyond)
	MaxBatch       int           // events per request (413 beyond)
	APIKeys        []APIKey      // accepted bearer keys and their sources (checkAPIKeys); none needs AllowAnonymous
	AllowAnonymous bool          // with no APIKeys, accept every request (New refuses no keys otherwise)
	PublishTimeout time.Duration // how long a request waits for its PubAcks before answering 503
	RecentIDs      int           // keys of stored events remembered to report repeats; < 0 disables
	RetryAfter     time.Duration // Retry-After sent with 503
	MaxConcurrent  int           // POST /v1/events served at once, body read; beyond, 503 with Retry-After at once
	// MaxRequestsPerKey bounds the requests of one key (or of all anonymous ones) in progress, body being
	// read included; beyond, 429 with Retry-After at once. Default twice MaxConcurrent (bodies may be read
	// while the slots are busy).
	MaxRequestsPerKey int
	MinBodyRate       int64 // bytes/s a body must average after BodyGrace (408 otherwise); < 0: no minimum
	// KeepRejected stores events rejected for a curable reason as dead letters (kept.go), before answering.
	KeepRejected bool
	BodyGrace    time.Duration // how long a body may take before MinBodyRate applies
	Now          func() time.Time
}

func (c Config) withDefaults() Config {
	if c.Partitions <= 0 {
		c.Partitions = bus.Topology{}.WithDefaults().Partitions
	}
	c.MaxBody = orDefault(c.MaxBody, DefaultMaxBody)
	c.MaxBatch = int(orDefault(int64(c.MaxBatch), DefaultMaxBatch))
	c.PublishTimeout = time.Duration(orDefault(int64(c.PublishTimeout), int64(DefaultPublishTimeout)))
	c.RetryAfter = time.Duration(orDefault(int64(c.RetryAfter), int64(DefaultRetryAfter)))
	c.MaxConcurrent = int(orDefault(int64(c.MaxConcurrent), DefaultMaxConcurrent))
	c.MaxRequestsPerKey = int(orDefault(int64(c.MaxRequestsPerKey), 2*int64(c.MaxConcurrent)))
	c.BodyGrace = time.Duration(orDefault(int64(c.BodyGrace), int64(DefaultBodyGrace)))
	switch {
	case c.MinBodyRate == 0:
		c.MinBodyRate = DefaultMinBodyRate
	case c.MinBodyRate < 0:
		c.MinBodyRate = 0
	}
	if c.RecentIDs == 0 {
		c.RecentIDs = DefaultRecentIDs
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// orDefault returns v, or def when v ≤ 0.
func orDefault(v, def int64) int64 {
	if v <= 0 {
		return def
	}
	return v
}

// Bus models *bus.Conn: what ingest asks of JetStream.
type Bus interface {
	PublishBatch(ctx context.Context, msgs []bus.Msg) ([]bus.PubAck, error)
	Ready(ctx context.Context) error
	StreamCreated(ctx context.Context, stream string) (time.Time, error)
	Connected() bool // whether the connection is up now (it reconnects by itself)
}

// The routes of the ingest API.
const (
	PathEvents  = "/v1/events"  // CloudEvents
	PathLogs    = "/v1/logs"    // OTLP/HTTP log records
	PathMetrics = "/v1/metrics" // OTLP/HTTP metric data points
)

// Service is the ingest HTTP service. Build it with New and serve Handler.
type Service struct {
	cfg     Config
	bus     Bus
	catalog *events.Catalog
	otlp    *otlpmap.Mapper // the catalog's OTLP rules
	keys    *keyring
	hasher  keyHasher
	recent  *recentlyStored // nil when disabled
	tel     *telemetry.Telemetry
	tracer  trace.Tracer
	log     *slog.Logger
	metrics *metrics
	since   atomic.Int64 // reporting start (unix ns), 0 until looked up: see reportingStart
	slots   *fairSlots   // one per request being served once its body is read (Config.MaxConcurrent)
	// inProgress counts each producer's requests from authentication to the answer (Config.MaxRequestsPerKey).
	inProgress *perProducer
	drain      atomic.Bool // shutting down: /readyz answers 503
}

// New returns a Service that validates against catalog, publishes through b, and reports to tel (logger,
// tracer provider, Prometheus registry). It fails if its metrics are already registered in tel.Registry.
func New(cfg Config, b Bus, catalog *events.Catalog, tel *telemetry.Telemetry) (*Service, error) {
	if b == nil || catalog == nil || tel == nil {
		return nil, errors.New("ingest: New needs a bus, a catalog and telemetry")
	}
	m, err := newMetrics(tel.Registry, cfg.KeepRejected)
	if err != nil {
		return nil, fmt.Errorf("ingest: metrics: %w", err)
	}
	cfg = cfg.withDefaults()
	if err := cfg.checkKeys(); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	keys := newKeyring(cfg.APIKeys)
	s := &Service{
		cfg: cfg, bus: b, catalog: catalog, otlp: otlpmap.New(catalog), keys: keys, hasher: newKeyHasher(),
		tel: tel, tracer: tel.Tracer("github.com/usagepipe/usagepipe/internal/ingest"),
		log: tel.Logger.With("component", "ingest"), metrics: m, slots: newFairSlots(cfg.MaxConcurrent, keys.producers()),
		inProgress: newPerProducer(cfg.MaxRequestsPerKey, keys.producers()),
	}
	if cfg.RecentIDs > 0 {
		s.recent = newRecentlyStored(cfg.RecentIDs)
	}
	if keys.anonymous() {
		s.log.Warn(AnonymousWarning)
	}
	return s, nil
}

// ErrNoAPIKeys: no key is configured and anonymous requests are not allowed.
var ErrNoAPIKeys = errors.New("no API keys: give --api-keys, --api-keys-file or USAGEPIPE_API_KEYS, " +
	"or --allow-anonymous to accept every request (only where nobody untrusted can reach ingest)")

// checkKeys reports keys checkAPIKeys refuses, no keys without AllowAnonymous, and keys with it.
func (c Config) checkKeys() error {
	switch {
	case len(c.APIKeys) == 0 && !c.AllowAnonymous:
		return ErrNoAPIKeys
	case len(c.APIKeys) > 0 && c.AllowAnonymous:
		return errors.New("--allow-anonymous and API keys exclude each other: with keys, every request needs one")
	}
	return checkAPIKeys(c.APIKeys)
}

// Handler routes POST /v1/events, POST /v1/logs and POST /v1/metrics (OTLP/HTTP; all traced), GET /healthz,
// GET /readyz and GET /metrics. Once [Serve] begins shutting it down, /readyz answers 503 while requests are
// still served.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, route := range []struct {
		path   string
		newAPI func(*Service, *http.Request) api
	}{{PathEvents, newEventsAPI}, {PathLogs, newLogsAPI}, {PathMetrics, newMetricsAPI}} {
		h := otelhttp.NewHandler(s.handle(route.path, route.newAPI), "POST "+route.path,
			otelhttp.WithTracerProvider(s.tel.TracerProvider()),
			otelhttp.WithMeterProvider(s.tel.MeterProvider()),
			otelhttp.WithPropagators(telemetry.Propagator()))
		mux.Handle("POST "+route.path, h)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", s.handleReady)
	mux.Handle("GET /metrics", s.tel.MetricsHandler())
	return &handler{mux, s}
}

// handler is the Service's routes; Serve tells it when shutdown begins.
type handler struct {
	http.Handler
	svc *Service
}

func (h *handler) beginDrain() { h.svc.drain.Store(true) }

// handleReady answers 200 only when the service is not shutting down, JetStream is reachable and the streams
// exist.
func (s *Service) handleReady(w http.ResponseWriter, r *http.Request) {
	if s.drain.Load() {
		http.Error(w, "not ready: shutting down", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.bus.Ready(ctx); err != nil {
		http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}
