// Package chaos is usagepipe's proof of "exactly once, whatever fails": it runs the real system as separate
// OS processes on loopback, feeds it a known workload while killing its processes and injecting Connect faults,
// and reconciles what Connect accepted against the ground truth.
//
// # Model
//
// A run ([Run]) builds (or takes) the project's binaries and starts, each as its own process group: one
// nats-server (`usagepipe nats`, or three clustered nodes with R3 streams), the Connect emulator (`usagepipe
// emulator`, with probabilistic 429, 5xx, reset and commit-then-drop faults, and garbled answers on the
// submitter's routes: empty, null and HTML 200s and redirects, served first or not), and the workers (2 ingest,
// 3 aggregator, 2 submitter by default). The [Workload] is generated from the seed: events over several
// products whose periods are short fixed windows, with resent duplicates, out-of-order times and late events
// for periods that have already closed. Its ground truth ([Truth]) is the fold of the unique events by each
// item's aggregation, the value Connect must end up billing per asset × item × tier × period.
//
// A producer sends the workload through ingest as a real client would: batches on a schedule, and every
// batch that fails (connection refused, timeout, 5xx) sent again, with the same event ids, until ingest
// confirms it. Meanwhile a killer SIGKILLs a random worker every few seconds and restarts it, and SIGKILLs the
// nats-server (or one cluster node) once and restarts it on the same store and port. When the last period has
// closed the killer stops, and the run waits until Connect has settled (no file still moving) and matches the
// truth, or until the settle deadline; then it reconciles (package reconcile) and prints the summary and the
// RESULT line.
//
// Everything that can be derived from the seed is (events, send schedule, kill schedule, the alignment of
// periods to the start), so a run is reproducible up to the timing of the machine.
//
// # Processes
//
// Every child runs in its own process group and is SIGKILLed as a group; on Linux the kernel also kills it if
// the harness dies. Run kills every child before it returns, also when ctx is cancelled or a panic unwinds.
//
// # Concurrency
//
// Run owns everything it starts; its producer, killer and supervisor goroutines end before it returns.
package chaos
