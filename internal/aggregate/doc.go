// Package aggregate is the aggregator's pure core: a deterministic fold of one partition's event stream into
// closed-period records, adjustments, partition marks and dead letters.
//
// # Model
//
// The input is the partition's stream of source messages, each with its stream sequence and stream timestamp
// (arrival): event packets (State.Apply) and ticks (State.Advance). Sequences must increase; a message whose
// sequence is not above State.LastSeq is ignored, so replaying already applied messages is harmless. The clock
// is the largest arrival seen (it never goes back), never the wall clock, so the output is a pure function of
// the input sequence. Every event folds into the aggregate of its key (product, contract, subscription, item,
// tier, period), where the subscription is the event's subject and the contract is the one the event names or
// the product's default:
//
//   - sum, max, min: of the quantities; count: the number of events (quantities are ignored);
//   - last: the quantity of the latest event by event time, a tie going to the later one in stream order
//     (sequence, then index in the packet). No two events share a stream position, so the id never decides;
//   - unique_count: the number of distinct values of the item's unique attribute;
//   - amounts (CR, PR, TR) are summed alongside, with the event count and the events.Digest of the event keys.
//
// A record's marketplace is that of the key's first event.
//
// # Closing and marks
//
// A period closes when the clock reaches its end + the product's allowed lateness. Closing emits one closed
// record per key of the period (revision 0, mode total; SourceSeq is the last packet that contributed) in
// Output.Closed, sorted by (product, contract, period, subscription, item, tier). Then, for every product and
// contract of the catalog (and every one that left it: see below), one PartitionMark per period that has
// closed, whether or not this partition had data in it, with the number of closed records it covers. Marks
// start with the earliest period that closes after Config.MarkFrom: the period containing MarkFrom, and the
// ones before it that the allowed lateness still keeps open, since their events can reach the stream after it
// was created; events of earlier periods are dead letters (too_old). Every partition emits the same marks.
// The worker publishes Output.Closed before Output.Marks.
//
// # Trace links
//
// The records of a period are published by the message that closes it, usually a tick, not by the messages
// that carried its events. So that tracing can still lead from a record back to its events, an open
// (product, contract, period) keeps the trace contexts (traceparent) of the first MaxGroupLinks distinct ones
// among the events applied to it, in stream order, with their keys; the close hands them out in Output.Links
// and forgets them. They are part of the state (snapshots) but of no record: output bytes do not depend on
// them.
//
// # Late events and adjustments
//
// An event whose period has closed produces an adjustment: the next revision of its key, never a change to an
// emitted record. Sum, count and unique_count adjustments are deltas (mode delta); max, min and last ones carry
// the new value and the value replaced (mode replace, Previous; nil when the key had no value). An adjustment's
// Amount (a delta, whatever the mode), Events and Digest cover the events it adds. All late events of one
// source message for one key make one adjustment. A max, min, last or unique_count adjustment that changes
// neither the value nor the amount is not emitted; its events still count for later values. A key whose first
// event came after the close has no closed record: its revision 0 is implicitly empty and its first adjustment
// is revision 1. A closed period is kept until its end + the product's max event age; later events are dead
// letters with reason too_late.
//
// # Dedup
//
// An event whose (source, id) was applied within Config.DedupHorizon of arrival time is ignored. Ids are
// remembered for at least the horizon and less than 9/8 of it (see idSet), in 10 to 23 bytes each; a horizon
// change is described below. Events that are dead-lettered are not remembered, so that a replay after a
// catalog fix is applied.
//
// # Cumulative series
//
// An event with data.cumulative (an OTLP cumulative sum's point, events.Cumulative) carries a running total,
// not usage: the fold keeps, per (source, series), the time and total of the series' last point it took, and
// folds the point's delta from it into the point's key, as an event of that quantity (cumulate). A point not
// after the last one is covered by it and folds nothing, nor does a delta of zero; a total lower than the last
// one is a dead letter (cumulative_decrease) and so is the first point of an unknown series that started at
// least the product's max event age before the clock (cumulative_baseline: the fold may have forgotten it);
// both become the series' last point. A series is forgotten once the clock passes its last point's period end
// plus the product's max event age, when any of its points up to that one would be too_late anyway. Series
// are part of the state and of snapshots (version 4), so the deltas are a function of the stream like the
// rest of the output.
//
// # Dead letters
//
// Events the fold cannot apply become dead letters (Output.DeadLetters) with the reason, the message's sequence,
// the stream time and the event's JSON: unknown product, item or contract (the catalog changed since ingest), a
// quantity with more decimals than the item's precision or negative when the item does not allow it (count
// excepted), a bad amount or tier, a missing unique attribute, too_late, and too_old: an event of a period
// before the first one marked for its product and contract, i.e. one that closed (end + allowed lateness) at or
// before MarkFrom (for a contract added later, with its lateness then; with a zero MarkFrom, before the first
// arrival). No partition marks such a period, so folding the event would make an adjustment nobody files;
// ingest rejects these events too. The checks are those of events.Catalog.Validate that concern the fold.
//
// # Snapshots and catalog changes
//
// State.Snapshot writes the whole state in a versioned, checksummed binary form, the same bytes for the same
// state; Restore(Snapshot(s)) continues exactly as s would, so the output for a given input is the same
// whether or not, and wherever, the state was restored. Restore also reads versions 1 and 2 (version 1 has no
// trace sets: periods open at the snapshot close with the trace contexts of their later events only) and
// rejects unknown versions with ErrSnapshotFormat.
//
// Restore with another catalog is how the catalog changes: the worker snapshots the state folded with the old
// catalog and restores it with the new one after a committed message. Every partition switches at its own
// stream position, and the submitter files a period only once every partition has marked it, so each change is
// defined to give every partition the same marks wherever it switched:
//
//   - An item's aggregation (or unique attribute, or precision) changes: a key keeps folding, on time and late,
//     with the aggregation it was created with, until it expires; keys created after the change (a new
//     subscription, tier or period, a closed period's first late event) take the new one. The aggregation is not
//     part of a record's identity (RecordID), so a (subscription, item, tier, period) never has two keys nor two
//     records. An event is checked against the new catalog and, when it folds into a key of another
//     aggregation, against that key's needs as well: its unique attribute, a quantity within the item's
//     precision and sign if the key folds quantities.
//   - A product or a contract leaves the catalog: it is retired. It keeps the definition it had (period kind,
//     zone, allowed lateness, max event age; snapshots carry it), its open periods close and its closed ones
//     expire as they would have, and its periods go on being marked, forever, as if it had stayed: no partition
//     can know when the others switch, nor a stream time after which no partition holds data of it, so stopping
//     anywhere would leave a period without some partition's mark and its records never filed. The cost is one
//     mark per period, contract and partition. Its events, on time or late, are dead letters (unknown_product,
//     unknown_contract). A product or contract that comes back goes on from where its marks stand.
//   - An item leaves the catalog: its keys close, are marked and expire as usual; its events are dead letters
//     (unknown_item).
//   - A product, contract or item joins: the marks of a new product or contract start with its first period
//     that closes after MarkFrom (with its allowed lateness), in every partition alike however late it switched
//     (a partition marks the periods closed by its switch at once, without records; its events for them
//     become adjustments).
//   - The allowed lateness or max event age changes: open periods take the new lateness, closed ones the new
//     age; marks go on from where they stand, and the first period marked (before which events are too_old)
//     stays. A product's period kind or zone must not change (its marks would step from the old periods into
//     the new ones).
//   - The dedup horizon changes from H1 to H2: a duplicate is judged by the horizon in force when it arrives.
//     Every id remembered at the switch is re-tagged as if it arrived at the end of its generation (or at the
//     switch, if that is earlier), so it is remembered for at least H2 after its arrival and less than
//     9/8·H2 + H1/8, wherever the partition switched; ids applied later follow H2 alone. An id forgotten before
//     the switch stays forgotten, so with a longer horizon its later duplicates count again: besides the slack
//     above, that is all the result depends on the switch's position for, and no rule could avoid it without
//     remembering ids beyond the horizon.
//
// A version 1 or 2 snapshot does not hold product definitions: restored with a catalog that lacks a product
// it marks, Restore fails with ErrSnapshotCatalog (restore it with its own catalog, then change). One holding
// two aggregates of one record identity (an aggregation change under those versions) is refused as corrupt.
//
// # Use
//
// The worker owning a partition builds its State with New (an empty stream) or Restore (a snapshot taken
// after message S), then for every message after S calls Apply for an event packet or Advance for a tick, and
// commits the Output together with the message's sequence: Closed, then Marks, then Adjustments, in order;
// DeadLetters go to the dead-letter stream. Output.Reset reuses an Output without allocating. When the
// partition is idle, a tick should reach the stream at or after NextDue, so that periods close on time.
// Snapshot can be taken between any two messages, and so can Usage: the aggregates of one subscription now,
// which for an open period are exactly the closed record to come if nothing else arrives (the operator's
// current-usage query reads it between messages).
//
// # Performance
//
// The fold allocates nothing per event in steady state (new keys, closes, adjustments, dead letters, the dedup
// table's growth and the first MaxGroupLinks trace contexts of a period allocate). Quantities and amounts are
// folded as exact fixed-point integers while they fit an int64 (the quantity at its key's precision, amounts
// at events.AmountPrecision) and as events.Decimal beyond, with identical results (see fixed.go). An open key
// takes a 104-byte aggregate, its subscription's bytes, 4 bytes in its period's key list and its key index
// share (8-byte slots at a load of 3/16 to 3/4; the index doubles at 3/4): BenchmarkOpenKeyMemory measures
// 147 bytes a key with 150 000 keys and 154 with 200 000 (just past a doubling), amounts or not. last and
// unique_count keys, and values beyond the fixed point, add an 80-byte extension (and the unique values). A
// remembered id takes 10 to 23 bytes. Apply prepares a packet's events in passes that overlap their cache
// misses, so larger packets go faster.
//
// # Concurrency
//
// A State is not safe for concurrent use. It starts no goroutines and does no I/O except to the writer and the
// reader given to Snapshot and Restore.
package aggregate
