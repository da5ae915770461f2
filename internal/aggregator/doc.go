// Package aggregator is the aggregator worker: it wires the pure fold of internal/aggregate to the bus. A
// [Worker] joins the members of the aggregator group, owns some of the P event partitions, and for each owned
// partition runs a partition runner that replays and follows usage.events.<p> and commits the fold's output
// to USAGE_AGG in atomic, fenced batches. docs/DESIGN.md describes the protocol.
//
// # Ownership (balance only)
//
// Every member heartbeats member.<id> in the KV bucket usagepipe_agg_leases (a value carrying its expiry). The
// desired owner of partition p is the rendezvous-hash winner among live members; a worker acquires lease.<p>
// with a KV create or a compare-and-set over an expired or released lease, renews it every heartbeat and, when
// it is no longer the desired owner, stops the runner and then deletes the lease with compare-and-set. Leases
// only spread the work: two runners of one partition are harmless because every commit is fenced.
//
// # Exactly once (the fence)
//
// A runner starts from the last usage.agg.progress.<p> record: its stream sequence is the fence, its "to" the
// last source message whose output is committed. It restores the newest snapshot at or before that point,
// replays the rest of the partition with outputs discarded, then follows the stream. Every commit is one
// atomic batch whose first message, the new progress record, must find the fence still in place, so a stale
// runner's batch is rejected whole (bus.ErrFenced) and the runner stops. The fold is a pure function of the
// stream (messages and their server timestamps), so any crash, at any point, leads to the same output.
//
// # Fold configuration
//
// Besides the stream, the fold depends on the catalog, P, the dedup horizon and MarkFrom. These are committed
// with the output: stored once by digest, named by every progress record and snapshot, so that a runner replays
// committed messages under the configuration they were committed with, whatever its own, and switches to its
// own only after the last committed message (history.go).
//
// # Retention
//
// USAGE_EVENTS keeps messages for MaxAge only; after that a snapshot is the only copy of what committed messages
// did to the state. A runner snapshots its committed base when the partition goes idle and when it stops, and
// reports the age of what no snapshot covers. A replay that would need a message MaxAge removed is refused with
// [ErrReplayGap]: the partition stops rather than emit records that miss committed events.
//
// # Concurrency
//
// A Worker's Run loop is one goroutine; each runner is one goroutine plus one reading goroutine, and owns its
// aggregate.State alone. Options and the catalog are read-only once Run starts. A runner's commits are stored
// by a committer goroutine, at most one at a time per runner and at most Options.MaxCommits at a time per worker
// (the server limits open atomic batches per stream).
package aggregator
