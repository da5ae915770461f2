// Package retention removes from USAGE_AGG and USAGE_DLQ what is provably no longer needed, and nothing else
// (docs/DESIGN.md, "Retention of USAGE_AGG and USAGE_DLQ"). Neither stream has an age limit: an age limit
// would drop records a parked file still needs, or an open dead letter.
//
// # Model
//
// A round (Run) decides each purge from a predicate on what it reads — the ledger, the supplement indexes,
// the adjustments consumer's ack floor, the aggregator's snapshots and progress, the replay log — and only
// below the first message stored within MinAge:
//
//   - a period's closed records and marks: every part of its revision 0 accepted, closed or empty;
//   - the marks of a period without closed records: every partition marked it with none, its max event age
//     is over, and its supplement index notes no_closed_records (written first: the gate reads it);
//   - a period's adjustments up to its index's covered: every supplement up to it accepted, closed or empty,
//     and the adjustments consumer acknowledged past it;
//   - a partition's progress records below aggregator.ProgressFloor (the oldest snapshot kept);
//   - a dead-letter message once every letter in it is replayed or found a duplicate.
//
// Every predicate is monotone (those states are final; ack floors and snapshots only advance), so a purge
// decided on a stale read, by any submitter, concurrently with another, is still right.
//
// # Concurrency
//
// Run is safe to call from several processes at once; purges are idempotent.
package retention
