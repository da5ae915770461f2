// Package explain is `usagepipe bench explain`: the latency of the operator's read side on a large stream. It
// fills an embedded JetStream's USAGE_EVENTS with N events over S subscriptions as ingest writes them
// (requests of E events, one packet per partition, event time = the time of the request), lets one aggregator
// worker fold and commit them all, then measures, against that stream, ExplainEvent of randomly chosen stored
// events (each must be found and counted) and Usage of randomly chosen subscriptions (answered by the
// partitions' owner), and prints their percentiles and a RESULT line:
//
//	RESULT explain_p50_ms=… explain_p99_ms=… usage_p99_ms=…
//
// An explain of a stored event reads its partition from the event's time − 5 s to its first copy, then the
// later-copies bound (CopiesBudget packets, the stream being denser than an hour of it). The fill takes well
// under the five minutes of ingest's future skew, so the whole stream is within that skew of every event: one
// explain of an event never sent, which reads its whole window (the partition from the stream's start), is
// timed too and printed.
//
// # Concurrency
//
// Run is sequential: one query at a time.
package explain
