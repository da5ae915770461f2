// Package usage answers "what has subscription AS-… used so far?": per subscription × item (× tier) the value
// of each open period, the events counted, the time it is complete up to and when the period closes, and the
// last closed periods with their value now, the files that reported them and, on request, what was reported.
//
// # Where the answer comes from
//
// From the owner of the subscription's partition, over core NATS (aggregator.QueryUsage): its runner reads its
// in-memory state between two messages, so the answer is exact as of the last message applied (its stream time
// is the time the answer is complete up to, normally a fraction of a second behind ingest) and for an open
// period it is the closed record to come if nothing else arrives. Reading the state costs the fold nothing (no
// view is maintained for it); a read takes the runner's loop for the time of one scan of its keys. A partition
// without an owner (moving, or no aggregator running) is an error (aggregator.ErrNoOwner): never a guess from
// older data. Closed periods are those the owner still keeps for late events (until their end + the product's
// max event age), the newest Query.Periods of each product; their files come from the ledger (state and the
// Connect status last seen). With Query.Reported, each closed key's records and adjustments are read from
// USAGE_AGG (its partition's subjects of the period) and the quantities of the revisions in accepted files
// are added up: what Connect was told. The value now and the reported value differ by the late events whose
// supplement is not accepted yet.
//
// # Concurrency
//
// A Service is safe for concurrent use.
package usage
