// Package ingest is usagepipe's ingest HTTP service: producers POST CloudEvents usage events to /v1/events and
// get one result per event, written only once every accepted event is durably stored in the USAGE_EVENTS
// stream (docs/DESIGN.md, "Flow", step 1).
//
// # Request model
//
// A request carries one event (application/cloudevents+json, or an application/json object) or a JSON array
// (application/cloudevents-batch+json, or an application/json array). Each event is decoded and validated on
// its own (events.DecodeBatchString gives each element events.DecodeEvent's result; then
// events.Catalog.Validate): one bad event never rejects its neighbours. The good
// ones are grouped by partition (events.Partition of the subscription) into packets, sorted by (source, id),
// published on usage.events.<p> with Nats-Msg-Id = hex SHA-256 of the partition and the sorted keys, so a
// retried identical request maps to identical ids and JetStream stores nothing twice within its duplicate
// window. Packets above 256 KiB are split deterministically: sizes count the request's trace context (which
// ingest writes into events without their own) as a fixed allowance, so a retry with other tracing headers
// splits the same way; a tracestate over 512 bytes is not written into events.
//
// An event is reported "duplicate" when its key and content repeat an earlier event of the request (the same
// key with other content is rejected as "conflict"; the first is kept), when its packet's PubAck says
// Duplicate, or when this process remembers having stored the key (recentlyStored: a bounded memory of
// acknowledged keys). Remembered events are left out before the packets are built from the rest; a request
// whose keys are all remembered publishes nothing.
//
// With Config.KeepRejected, an event rejected for a curable reason (events.Reason.Curable: the catalog or
// the clock decided, not its form), from a producer who may write its source, is also stored as a dead letter
// on usage.dlq.ingest.<reason> with its bytes as sent, in the same publish as the packets (kept.go): the
// answer is unchanged, and comes only once the dead letter is stored too.
//
// # Retries: what stores nothing twice
//
// A request's keys enter the memory together once all its packets are acknowledged, and leave it together
// (two generations of about RecentIDs/2 keys, turned only between requests). So a retry of a request either
// finds every key (all duplicates, nothing published) or none, and then publishes the first attempt's
// packets under their msg-ids: within the USAGE_EVENTS duplicate window (10 minutes by default, from the
// first store) JetStream answers Duplicate. A retry after a 503 is the same case: nothing was remembered.
// Left to the aggregator's de-duplication horizon (24 h of arrival by default): a retry after both the
// window and the memory (an ingest restart empties the memory; replicas do not share theirs); a retry with
// a different set of events; and overlapping requests (a request repeating some events of another one the
// memory has forgotten stores those again, and a later retry of either then makes a packet of the rest under
// a new msg-id).
//
// Status codes: 200 every event accepted or duplicate; 207 mixed; 400 all rejected, not JSON or not gzip; 401
// missing or unknown bearer key (when keys are configured); 408 body too slow (see "Keys and fairness"); 413
// body or batch too large (the body also once decompressed); 415 wrong content type or a Content-Encoding
// other than gzip; 429 with Retry-After, at once, when the request's key has Config.MaxRequestsPerKey
// requests in progress; 431 headers too large; 503 with Retry-After, and then no event is reported stored: at
// once when the NATS connection is down or no slot is free for the key (fairSlots), when the packets are not
// all acknowledged within the publish timeout, or when the request has valid events and the reporting start
// (the creation time of USAGE_EVENTS, looked up until known, then cached) is unknown, since an event of a
// period closed before it must be rejected as too_old.
//
// # Keys and fairness
//
// Each API key (Config.APIKeys; only their SHA-256 are kept) is a producer bound to the source prefixes it
// may write: an event of another source is rejected as forbidden_source, so it is neither stored nor
// remembered and the source's own producer can still send its (source, id). Without keys New refuses to
// build a Service unless Config.AllowAnonymous (all requests are then one producer, and New logs a warning).
// A request's body is read (bounded by Config.MaxBody, and by a minimum rate: pacedBody) before it takes one
// of the Config.MaxConcurrent slots, which producers share fairly (fairSlots); each producer has at most
// Config.MaxRequestsPerKey requests in progress, reading included (perProducer). docs/DESIGN.md, "Ingest".
//
// # Tracing
//
// The producer's traceparent header continues into the server span; each packet gets a producer span
// ("publish usage.events.{partition}") whose context travels in the packet's NATS headers; events without
// their own traceparent field get the request span's, so the aggregator can link to it.
//
// # Concurrency
//
// A Service is safe for concurrent use by any number of requests (at most Config.MaxConcurrent are decoded
// and published at once, after their bodies are read); it starts no goroutines. [ServeWith] bounds how long a request may take to arrive (ReadTimeout, body
// included) and its headers' size, and shuts down gracefully: /readyz answers 503 first, then, after
// DrainDelay, the listener closes and in-flight requests finish once their packets are acknowledged. [Run]
// then closes the bus connection, which flushes what is still pending.
package ingest
