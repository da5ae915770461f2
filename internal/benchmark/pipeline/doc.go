// Package pipeline is `usagepipe bench pipeline`: how many events per second one machine sustains through
// the whole of usagepipe, and how long an event then takes to be in an accepted Connect usage file.
//
// # Model
//
// A run builds (or takes) the module's binaries and starts, as separate processes on loopback
// (internal/childproc): one nats-server (`usagepipe nats`), the Connect emulator with an automatic provider
// (a submitted file is accepted at once), one ingest (with an API key made for the run), two aggregators and
// one submitter, all with their default settings. First, before the system starts, it measures the baseline:
// raw JetStream async publish of 256-byte messages, one per event (internal/benchmark/rawpublish), against a
// nats-server process of its own.
//
// The load generator is open-loop: requests of Batch events are scheduled by the clock at the offered rate,
// each one's latency is counted from its scheduled send time, and none waits for an earlier one, so a stall
// is measured rather than hidden by fewer requests. Events (workload.go) are drawn from a seed: subscriptions
// by a Zipf law over 10 000 subscriptions, three summed items by weight, 5 % sent again 0.2–6 s later with
// the same id, 1 % timed in the latest period that has already closed; subscriptions are named by
// eventgen.Subscription, and request bodies are encoded by eventgen.AppendBatch (the canonical CloudEvents
// encoding) ahead of their send time, since the generator shares the machine's cores. The scenario (which
// subscription and item, when, what is resent or late) is the bench's own: the ground truth needs each
// event's quantity in hundredths.
//
// The rate is stepped up (stepping.go) until a step fails: ingest p99 above the limit, a 503 or any failed
// request, a rejected event, or the aggregators' committed backlog (aggregator.ReadBacklog, sampled every
// second) growing for the growth window. Between steps the backlog drains. The highest rate a step
// sustained is the pipeline's rate; the ratio divides it by the raw publish rate.
//
// Then a soak offers half that rate for the soak duration. Ingest latency and every process's RSS (VmRSS)
// and CPU are read; a uniform sample of the soak's events (probes) is followed to Connect: the follower
// (connect.go) reads the records of every file Connect accepts and adds them to the ground truth
// (truth.go), which keeps, per asset × item × period, the quantity ingest stored and the quantity accepted;
// quantities are positive, so a probe is contained once its key's accepted quantity reaches what was stored
// up to it. Its end-to-end latency is measured from the later of its storage and its period's close (end +
// allowed lateness) to the file's acceptance (the file's accepted event): the pipeline's share, without the
// period's own wait. Events timed in a closed period (late) are reported apart: they reach Connect in
// supplementary files. For the soak's base files the summary also gives each lifecycle stage's time since
// the period's close (created, uploaded, submitted, accepted: stages.go), where that latency goes. Records
// are read only after the soak's last period closed (reading competes with the
// submitter for the emulator); the settle timeout bounds Connect's acceptances, not that reading.
//
// # Concurrency
//
// Run owns everything it starts: the processes, the load generator's goroutines, the Connect follower and
// the backlog watch; all end before it returns. The truth and the phases' figures are shared under mutexes.
package pipeline
