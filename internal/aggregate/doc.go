// Package aggregate is the aggregator's pure core: a deterministic fold of one partition's event stream into
// closed-period records, adjustments, partition marks and dead letters.
//
// # Model
//
// The input is the partition's stream of source messages, each with its stream sequence and stream timestamp
// (arrival): event packets (Apply) and ticks (Advance). The clock is the largest arrival seen, never the wall
// clock, so the output is a pure function of the input sequence. Every event folds into the aggregate of its key
// (product, contract, subscription, item, tier, period):
//
//   - sum, max, min: of the quantities; count: the number of events (quantities are ignored);
//   - last: the quantity of the latest event by event time, ties going to the later one in stream order
//     (sequence, then index in the packet; two events never share a stream position, so the id is never needed);
//   - unique_count: the number of distinct values of the item's unique attribute;
//   - amounts (CR, PR, TR) are summed alongside, with the event count and an events.Digest of the event keys.
//
// # Closing, marks and adjustments
//
// A period closes when the clock reaches period end + the product's allowed lateness. Closing emits one closed
// record (revision 0, mode total) per key of the period in Output.Closed, sorted by (product, contract, period,
// subscription, item, tier). Then, per product and contract of the catalog, one PartitionMark for every period
// that has closed, even without data here, starting with the earliest period that closes after Config.MarkFrom
// (the period containing MarkFrom, and earlier ones when the allowed lateness keeps them open); a mark is never
// emitted before the closed records it counts, and the worker must publish Closed before Marks.
//
// An event whose period has closed produces an adjustment: a new revision of the key (previous + 1), never a
// change to an emitted record. Sum, count and unique_count adjustments are deltas; max, min and last ones carry
// the new value and the replaced one (Previous, nil when the key had no events). Amount, Events and Digest of
// an adjustment cover only the new events. All late events of one source message for one key make a single
// adjustment; a max, min, last or unique_count adjustment that changes neither the value nor the amount is not
// emitted (its events still count for later revisions' values). A key with no closed record (its first event
// came late) starts at an implicit empty revision 0, so its first adjustment is revision 1. A closed key is kept
// until period end + the product's max event age; later events are dead-lettered with events.ReasonTooLate.
//
// # Dedup
//
// An event whose (source, id) was applied less than Config.DedupHorizon of arrival time earlier is ignored. Ids
// are remembered for at least the horizon and less than 17/16 of it (see idSet); events that are dead-lettered
// are not remembered, so a replay after a catalog fix is applied. Memory is 10–23 bytes per remembered id.
//
// # Dead letters
//
// Events that cannot be applied (unknown product, item or contract, a quantity with more decimals than the
// item's precision or negative when the item does not allow it, a bad amount or tier, a missing unique
// attribute, too late) become DeadLetters carrying the reason, the source sequence and the event's JSON.
//
// # Snapshots
//
// Snapshot writes the whole state in a versioned binary form; Restore(Snapshot(s)) continues exactly as s
// would, so the output for a given input is identical whether or not, and wherever, the state was restored.
//
// # Concurrency
//
// A State is not safe for concurrent use; it starts no goroutines and does no I/O except to the writer and
// reader given to Snapshot and Restore.
package aggregate
