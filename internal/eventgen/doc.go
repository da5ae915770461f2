// Package eventgen draws realistic usage events, deterministically from a seed: the one generator behind
// the dev simulator's traffic (internal/devstack), the benchmarks' events (internal/benchmark/…), the chaos
// workload (internal/chaos) and the tests that need realistic traffic rather than a hand-picked event.
//
// # Model
//
// A [Meter] is one thing a producer measures: an item of a catalog product for one subscription; [Meters]
// lists a catalog's. A [Generator] draws the next event of a meter at a time the caller chooses: a new id
// (the generator's prefix and a sequence number), a quantity with every decimal the item allows (1 for a
// count item), a tier for TR products, an amount for CR and PR products, a marketplace among the product's
// and the counted attribute of a unique_count item, so every event is valid for the catalog when its time
// is. Which meter, when, how often it is repeated or sent late is the caller's scenario. [AppendBatch] encodes
// events as a producer posts them (a JSON array of CloudEvents, application/cloudevents-batch+json).
//
// The same seed, options and calls give the same events.
//
// # Concurrency
//
// A Generator is used from one goroutine; Meters and AppendBatch are safe anywhere.
package eventgen
