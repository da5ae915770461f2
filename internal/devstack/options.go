package devstack

import (
	"io"
	"log/slog"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/ingest"
	"github.com/usagepipe/usagepipe/internal/opsapi"
)

// Defaults of Options.
const (
	DefaultDataDir        = ".usagepipe/data"
	DefaultIngestAddr     = "127.0.0.1:8080"
	DefaultEmulatorAddr   = "127.0.0.1:8090"
	DefaultMetricsAddr    = "127.0.0.1:9464"
	DefaultNATSAddr       = "127.0.0.1:4222"
	DefaultOperatorAddr   = "127.0.0.1:8070"
	DefaultConsoleAddr    = "127.0.0.1:8071"
	DefaultPartitions     = 4
	DefaultConnectAPIKey  = "SU-000-000-000:usagepipe-dev"
	DefaultProcessingTime = 2 * time.Second
	DefaultAcceptAfter    = 5 * time.Second
	DefaultSimulateEvery  = 2 * time.Second
)

// Options configures a dev stack. The zero value runs the sample world with the defaults above; tests set
// loopback addresses with port 0, a temporary DataDir and a SpanExporter.
type Options struct {
	DataDir string // the JetStream store, the emulator's state and the log live here
	Fresh   bool   // wipe DataDir first (only a directory a dev stack created, or an empty one)

	IngestAddr   string // ingest HTTP API (host:port; port 0 picks one)
	EmulatorAddr string // Connect emulator
	MetricsAddr  string // /metrics/{ingest,aggregator,submitter}
	NATSAddr     string // embedded NATS client port, for the nats CLI
	// OperatorAddr is the operator API (/api/v1/: explain, usage, status). On a loopback address requests
	// without a key are served; elsewhere OperatorKeys are required.
	OperatorAddr string
	OperatorKeys opsapi.Keys
	// ConsoleAddr is the web console, with the operator API's keys and loopback rule.
	ConsoleAddr string

	// IngestAPIKeys are the keys ingest accepts (the simulator sends the first). None: ingest accepts every
	// request, which Start allows only when IngestAddr is a loopback address.
	IngestAPIKeys []ingest.APIKey

	// KeepRejected makes ingest keep the events it rejects for a curable reason as dead letters
	// (--keep-rejected), for usagepipe dlq to list and replay.
	KeepRejected bool
	Submitters   int           // submitters run (default 1), each with its own connection and member id
	PlanGrace    time.Duration // the submitters' --plan-grace (0: theirs)

	Partitions int      // P; fixed for a data dir (a later start with another P is refused)
	Catalogs   Catalogs // zero: SampleCatalogs()

	ConnectAPIKey  string        // the key the emulator accepts and the submitter sends
	ProcessingTime time.Duration // how long the emulator processes an upload (negative: none)
	AcceptAfter    time.Duration // when the emulated provider accepts a submitted file (negative: at once)

	Simulate      bool          // run the traffic simulator against the ingest endpoint
	SimulateEvery time.Duration // one simulator request this often

	SpanExporter sdktrace.SpanExporter // every service's spans, synchronously (tests); nil: OTEL_* variables
	Getenv       func(string) string   // OTEL_* lookup; nil: no variables
	LogOutput    io.Writer             // JSON logs of every service; nil: DataDir/usagepipe.log
	LogLevel     slog.Level
}

func (o Options) withDefaults() Options {
	config.SetDefault(&o.DataDir, DefaultDataDir)
	config.SetDefault(&o.IngestAddr, DefaultIngestAddr)
	config.SetDefault(&o.EmulatorAddr, DefaultEmulatorAddr)
	config.SetDefault(&o.MetricsAddr, DefaultMetricsAddr)
	config.SetDefault(&o.NATSAddr, DefaultNATSAddr)
	config.SetDefault(&o.OperatorAddr, DefaultOperatorAddr)
	config.SetDefault(&o.ConsoleAddr, DefaultConsoleAddr)
	config.SetDefault(&o.Partitions, DefaultPartitions)
	config.SetDefault(&o.ConnectAPIKey, DefaultConnectAPIKey)
	config.SetDefault(&o.ProcessingTime, DefaultProcessingTime)
	config.SetDefault(&o.AcceptAfter, DefaultAcceptAfter)
	config.SetDefault(&o.SimulateEvery, DefaultSimulateEvery)
	config.SetDefault(&o.Submitters, 1)
	o.ProcessingTime, o.AcceptAfter = max(o.ProcessingTime, 0), max(o.AcceptAfter, 0)
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	return o
}
