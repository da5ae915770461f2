package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/startup"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// flags are the ingest command line's own flags (each also read from USAGEPIPE_<NAME>); the shared ones
// (NATS, --provision, --log-level) are internal/startup's.
type flags struct {
	addr           string
	catalogPath    string
	maxBody        int64
	maxBatch       int
	apiKeysFile    string
	apiKeys        string
	allowAnonymous bool
	keepRejected   bool
	publishTimeout time.Duration
	recentIDs      int
	maxConcurrent  int
	maxPerKey      int
	minBodyRate    int64
	bodyGrace      time.Duration
	server         ServerOptions

	catalog *events.Catalog // loaded by check
	keys    []APIKey        // loaded by check
}

func (f *flags) declare(fs *config.FlagSet) {
	fs.StringVar(&f.addr, "http-addr", ":8080", "listen address of the HTTP API, /healthz, /readyz and /metrics")
	fs.StringVar(&f.catalogPath, "catalog", "", "path of the product catalog (YAML); required")
	fs.Bytes(&f.maxBody, "max-body", DefaultMaxBody, "request body limit (413 beyond), e.g. 5MiB")
	fs.IntVar(&f.maxBatch, "max-batch", DefaultMaxBatch, "events per request (413 beyond)")
	fs.StringVar(&f.apiKeysFile, "api-keys-file", "", "file of accepted bearer API keys, one entry per line: <key> or <key>:<source prefix> … (* for any source)")
	fs.Secret(&f.apiKeys, "api-keys", "accepted bearer API keys, comma-separated entries <key>:<source prefix> … (* for any source; a key alone only when it is the only one)")
	fs.BoolVar(&f.allowAnonymous, "allow-anonymous", false, "accept every request without an API key, from any source (only where nobody untrusted can reach ingest)")
	fs.BoolVar(&f.keepRejected, "keep-rejected", false, "store events rejected for a reason a catalog fix or time can cure (unknown_product, unknown_item, too_old…) as dead letters on usage.dlq.ingest.<reason>, to replay later with usagepipe dlq replay; the answer is unchanged")
	fs.DurationVar(&f.publishTimeout, "publish-timeout", DefaultPublishTimeout, "how long a request waits for JetStream before answering 503")
	fs.IntVar(&f.recentIDs, "recent-ids", DefaultRecentIDs, "stored event keys remembered to report repeats as duplicates (negative disables)")
	fs.IntVar(&f.maxConcurrent, "max-concurrent-requests", DefaultMaxConcurrent, "POST /v1/events served at once once their body is read, shared fairly among keys; beyond, 503 with Retry-After")
	fs.IntVar(&f.maxPerKey, "max-requests-per-key", 0, "requests of one API key in progress at once, body reading included; beyond, 429 with Retry-After (0: twice --max-concurrent-requests)")
	fs.Bytes(&f.minBodyRate, "min-body-rate", DefaultMinBodyRate, "bytes per second a request body must average after --body-grace (408 otherwise); 0: no minimum")
	fs.DurationVar(&f.bodyGrace, "body-grace", DefaultBodyGrace, "how long a request body may take before --min-body-rate applies")
	fs.DurationVar(&f.server.ReadTimeout, "read-timeout", DefaultReadTimeout, "limit on reading a whole request, body included (an event body's limit counts from its start)")
	fs.IntVar(&f.server.MaxHeaderBytes, "max-header-bytes", DefaultMaxHeaderBytes, "request header limit in bytes (431 beyond)")
	fs.DurationVar(&f.server.ShutdownTimeout, "shutdown-timeout", DefaultShutdownTimeout, "how long shutdown waits for in-flight requests")
	fs.DurationVar(&f.server.DrainDelay, "drain-delay", 0, "at shutdown, how long /readyz answers 503 before the listener closes (let load balancers notice)")
}

// check loads the catalog and API keys and reports every configuration problem at once.
func (f *flags) check() error {
	var errs []error
	if f.maxBatch < 1 || f.maxBody < 1 || f.maxConcurrent < 1 || f.server.MaxHeaderBytes < 1 || f.maxPerKey < 0 {
		errs = append(errs, errors.New("--max-batch, --max-body, --max-concurrent-requests and --max-header-bytes must be positive, --max-requests-per-key not negative"))
	}
	if f.server.ReadTimeout <= 0 || f.server.ShutdownTimeout <= 0 || f.bodyGrace <= 0 || f.server.DrainDelay < 0 {
		errs = append(errs, errors.New("--read-timeout, --shutdown-timeout and --body-grace must be positive, --drain-delay not negative"))
	}
	var err error
	if f.catalogPath == "" {
		errs = append(errs, errors.New("--catalog is required"))
	} else if f.catalog, err = events.LoadCatalog(f.catalogPath); err != nil {
		errs = append(errs, fmt.Errorf("--catalog: %w", err))
	}
	f.keys, err = LoadAPIKeys(f.apiKeysFile, f.apiKeys)
	if err == nil {
		err = f.serviceConfig(0).checkKeys()
	}
	return errors.Join(append(errs, err)...)
}

// warnings are the advice -validate prints about a valid configuration.
func (f *flags) warnings() []string {
	w := startup.ScheduleWarnings(f.catalog)
	if f.allowAnonymous && len(f.keys) == 0 {
		w = append(w, AnonymousWarning)
	}
	return w
}

func (f *flags) serviceConfig(partitions int) Config {
	minRate := f.minBodyRate
	if minRate == 0 {
		minRate = -1 // none
	}
	return Config{
		Partitions: partitions, MaxBody: f.maxBody, MaxBatch: f.maxBatch, APIKeys: f.keys, AllowAnonymous: f.allowAnonymous, KeepRejected: f.keepRejected,
		PublishTimeout: f.publishTimeout, RecentIDs: f.recentIDs, MaxConcurrent: f.maxConcurrent,
		MaxRequestsPerKey: f.maxPerKey, MinBodyRate: minRate, BodyGrace: f.bodyGrace,
	}
}

// command is ingest as internal/startup runs it.
func command() startup.Command {
	f := &flags{}
	return startup.Command{
		Name: "ingest", Uses: startup.Uses{Telemetry: true, NATS: true, Provision: true},
		Flags: f.declare, Check: f.check, Warnings: f.warnings, Serve: f.serve,
	}
}

// Run is the ingest command: it parses args (flags with USAGEPIPE_* fallbacks read through getenv), logs JSON
// to stdout, and serves until ctx is cancelled; then it stops accepting, finishes in-flight requests, flushes
// publishes and telemetry (see [ServeWith]). With -validate it checks the configuration and catalog, prints them and returns.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return startup.Run(ctx, command(), args, getenv, stdout)
}

// serve serves HTTP on the connection internal/startup made until ctx ends, then shuts down gracefully.
func (f *flags) serve(ctx context.Context, env startup.Env) error {
	svc, err := New(f.serviceConfig(env.NATS.Partitions), env.Conn, f.catalog, env.Tel)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	env.Tel.Logger.Info("ingest listening", "addr", ln.Addr().String(), "nats", env.NATS.Bus("ingest", nil),
		"partitions", env.NATS.Partitions, "api_keys", len(f.keys), "anonymous", len(f.keys) == 0)
	go svc.RunHeartbeat(ctx, env.Conn, DefaultMemberID(), ln.Addr().String())
	return ServeWith(ctx, ln, svc.Handler(), f.server)
}
