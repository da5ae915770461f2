// Package bus is usagepipe's transport: the only package that imports nats.go. It connects to NATS, provisions
// the JetStream streams, KV buckets and object store named in docs/DESIGN.md, and offers the few operations the
// stages need: reliable publish (Publish, PublishBatch), fenced atomic commit (CommitAtomic), direct reads
// (LastMsg, GetMsg), ordered replay and tail (Read), durable at-least-once consumption (Consume), KV with
// compare-and-set, object blobs, and W3C trace context in message headers.
//
// Provisioning: Provision is idempotent and run by every service at start. It never shrinks a stream's
// retention or duplicate window, and it records the partition count P in USAGE_EVENTS's metadata
// (MetaPartitions); Provision and Ready refuse a service configured with another P (ErrPartitionMismatch).
//
// Delivery model:
//   - Publish and PublishBatch return only once the server has stored every message (a PubAck per message).
//     A message whose publish failed in a retryable way (disconnect, timeout, no responders, "duplicate in
//     process") is republished with the same Nats-Msg-Id until it is acknowledged or ctx ends, so a retry
//     never stores a message twice within the stream's duplicate window.
//   - CommitAtomic writes one all-or-nothing batch fenced by the expected last sequence of its first subject.
//     ErrFenced means the batch was rejected because someone else wrote first; ErrAmbiguous means the outcome
//     is unknown (the caller must re-read): it may still land later, and the fence makes any retry safe.
//   - Read is an ordered, ack-less replay; Consume is a durable, explicitly acknowledged consumer (at least
//     once: acks are not an exactly-once mechanism, see docs/DESIGN.md).
//
// Concurrency: a *Conn, *KV and every method on them are safe for concurrent use. Read and Consume call their
// callback serially from one goroutine.
package bus
