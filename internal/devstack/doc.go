// Package devstack runs the whole of usagepipe in one process, for `usagepipe dev` and for end-to-end tests:
// an embedded JetStream server, the Connect emulator, and the ingest, aggregator and submitter services.
//
// # Model
//
// The services are the code the three binaries run, built with their own constructors (ingest.New and
// ingest.Serve, aggregator.New and Worker.Run, submitter.New and Submitter.Run): each gets its own
// telemetry.Telemetry (service name, logger, tracer provider, Prometheus registry) and its own bus connection,
// as it would in its own process. Only the wiring is the stack's: the embedded server, the emulator with a
// provider that accepts submitted files after a delay, a sample world (Catalogs: the pipeline catalog with
// one-minute fixed periods and the same products as Connect sees them), an optional simulator that posts
// realistic traffic (duplicates and late events included) to the real ingest endpoint, and an observer that
// counts stored events and open periods for Summary.
//
// Everything persistent lives in one data directory: the JetStream store, the emulator's state and the log.
// A running stack holds the directory's lock (internal/dirlock) until it has shut down: a Start on a directory
// another stack (of any process) holds is refused, naming the holder's pid, before anything is wiped or
// written. A later Start on the same directory resumes (the services resume from the streams and the ledger;
// the emulator from its state file). Fresh wipes it first, but only a directory a stack created.
//
// # Concurrency
//
// Start returns once every endpoint listens; the stack then runs on its own goroutines until Start's
// context ends or one service fails, and shuts down in reverse order of start (services first, then the
// bus connections and telemetry, the emulator, the server). Summary, URLs and Emulator are safe to call
// from any goroutine while it runs.
package devstack
