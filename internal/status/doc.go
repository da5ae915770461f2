// Package status is the whole system's state in one view, read from NATS (streams, ledger, leases and the
// services' heartbeats): per product, contract and recent period whether it is open, closing or closed, how
// many partitions marked it, its files by ledger state and Connect status; the parked files; the dead letters
// by stage and reason; every partition's owner and committed backlog; the aggregator workers with their
// partitions and lag; the durable consumers' backlogs; ingest's rates; the services alive. Build reads it all
// (side-effect free) and derives the Problems that status --check fails on.
//
// # Problems (Report.Problems; --check exits non-zero when there is one)
//
//   - no_owner: a partition whose lease is not held by a live aggregator (nobody folds it: events pile up, its
//     periods never close);
//   - aggregator_stuck: a partition whose committed output is more than Options.MaxLag behind its newest
//     message (stream time);
//   - parked: a usage file parked (rejected, or failed with a reason) or a revision with a parked key a part
//     of which is still parked: an operator must resolve it. An abandoned file is resolved (on purpose);
//   - base_parked: a supplement in Connect (ledger.Entry.BaseParked) whose period's closed-records file is
//     still rejected or failed: its deltas may be billed without their base;
//   - overdue: a period that closed more than Options.OverdueAfter ago (end + allowed lateness) and is not
//     reported yet: not marked by every partition, or marked with records but its closed-records file not
//     accepted (or closed, or empty). A period whose closed-records file was abandoned (its other parts
//     billed) is shown as abandoned, not overdue;
//   - dead_letters: open dead letters (never replayed, refused, interrupted: internal/deadletter's listing of
//     USAGE_DLQ and the aggregator's in USAGE_AGG, with the replay logs) stored within
//     Options.DeadLetterWindow: something was not counted or not billed and nobody has replayed it yet.
//     Replayed letters are counted as stored, never as problems; open ones older than the window are warnings
//     (dead_letters_old);
//   - service_down: no live heartbeat of an aggregator or of a submitter (a service missing from the status
//     bucket is down).
//
// Warnings (listed, not failing --check): no ingest heartbeat, a durable consumer with messages pending or
// being handled at the moment of the read, open dead letters older than the window.
//
// # Cost
//
// Build reads every stored dead letter (retention keeps the open ones and, for its MinAge, the replayed ones)
// and, for more than a few, every replay log; the ledger's file entries; each shown period's marks.
//
// # Concurrency
//
// Build is safe for concurrent use; a Report is a plain value.
package status
