// Package reconcile compares what usagepipe should have reported with what Connect says it accepted.
//
// # Model
//
// Every side is reduced to [Totals]: per [Key] (product, contract, asset, item, tier, period start) the exact
// decimal quantity and amount that Connect should bill. Three sources produce Totals:
//
//   - [ReadRecords]: the records of accepted and closed usage files, summed (closed files plus supplementary
//     files); [Reconcile] reads only usagepipe's files (external_id usagepipe:…). The submitter reports adjustments of max, min and last as deltas, so the sum of a key's records
//     is its final value whatever the aggregation.
//   - [ReadAgg]: the aggregator's output in USAGE_AGG. Delta revisions are summed onto the closed value; a
//     replace revision (max, min, last) sets the value; amounts are always deltas.
//   - a ground truth computed by whoever generated the events (the chaos harness).
//
// A [Keyer] keys both sides alike: a Connect record by the catalog period containing its start, and, for
// products that find assets by a parameter, by the vendor's subscription through an [AssetMap] read from
// Connect's assets (without one, such products are keyed by [AnyAsset] and summed over their assets).
//
// [Compare] lists the keys whose totals differ. A difference is "lost" when Connect holds less than expected
// (or nothing) and "doubled" when it holds more; the direction is what it means for sums and counts, and only a
// sign for max, min and last.
//
// # Concurrency
//
// Totals and the views are plain values owned by their caller; the readers make sequential calls and start no
// goroutines that outlive them.
package reconcile
