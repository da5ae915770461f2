// Package startup is the start-up path of every usagepipe service, written once. [Run] takes a service from
// its command line to its work, in this order:
//
//	flags (each with its USAGEPIPE_* fallback) → -h prints the help, --version the build → check the
//	configuration (-validate prints it with the service's warnings and exits) → telemetry → NATS connect →
//	provision the streams and buckets → ops server (/metrics, /healthz, /readyz) → the service's own work
//	until ctx ends
//
// and then closes what it started in the reverse order. The build (internal/buildinfo) is printed by
// --version (declared by config.FlagSet) and exported by the telemetry stage as service.version and
// usagepipe_build_info. A service states only what is its own in a [Command]: its name, its flags, its checks,
// which shared stages it uses and its work ([Command.Serve]).
// [Start] runs the stages alone, for services started in process (usagepipe dev), and [Main] is a binary's
// main.
//
// # Errors
//
// Every error Run returns starts with the service's name exactly once ("ingest: invalid configuration: …").
// A service's package may already name itself in its errors (ingest.New's "ingest: …"); Run adds the name to
// those that do not, and [Main] prints the error as it is.
//
// # Concurrency
//
// Run and Start are called once per service; the Started value they hand to Serve is read-only, its
// connection and telemetry safe for concurrent use.
package startup
