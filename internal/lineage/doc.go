// Package lineage answers "what happened to this event?" and its reverse, "which events make this record or
// file?", from the streams, the ledger and Connect, read only (it never writes anything).
//
// # Explaining an event
//
// ExplainEvent takes an event's idempotency key (source, id) and, to bound the search, its subject (which
// fixes the partition) and time t. No copy can be stored before t − events.FutureSkew − ClockMargin (ingest
// rejects it as in_future) nor after t + the largest max_event_age (too_old) or the stream's end: that is the
// event's window in partition p. It is read in two parts. The likely part, from t − ClockMargin: until the first
// copy, then for later copies until Options.CopiesWindow (1 h) after it or Options.CopiesBudget (2000)
// messages of the partition more, whichever comes first (or the window's end). The early part, the future
// skew before it, holds a copy only when the producer's clock ran ahead of ingest's: it is read when the likely
// part holds none (so "not found" covers the whole window), or when EventQuery.Early asks; otherwise the answer
// says it was not searched. Without a subject every partition is read; without a time, each partition from the
// first message the stream keeps. Every answer says what was read (Span: stream, filter, sequences and times,
// complete or not and why), so that "not found" is trustworthy: not in these messages, and nothing outside
// them can hold it.
//
// Each stored copy gets a fate, in stream order: pending (the aggregator has not committed past it),
// dead-lettered (a dead letter on usage.agg.dlq.<p> names its sequence and key), duplicate (an earlier copy
// was counted within the dedup horizon of the fold configuration: it names that copy) or counted. For the
// counted copy the catalog of the committed fold configuration gives the period; a copy that arrived before
// the period's close (end + allowed lateness) is in the closed record (revision 0) of its key, a later one in
// the adjustment its packet made (or in none, when a max, min, last or unique_count value did not change). The
// record leads to the ledger entry of the file that holds it (the part is found by the ledger's cut) and the
// entry to its Connect file and, through pkg/usageapi, the Connect record. An open period is reported with
// its close time and, when its owner answers, the value so far.
//
// # Dead letters and replays
//
// An event ingest rejected and kept (--keep-rejected) is in no partition: ExplainEvent reads the ingest
// dead letters of USAGE_DLQ (whole, through internal/deadletter) for its key, and names each (its id, as
// usagepipe dlq show and replay take it, and its state). A copy the aggregator refused names its letter too.
// The replays of those letters (internal/deadletter.Replays: the logs in the ledger — who, when, the outcome,
// earlier refused attempts) are listed, and a replay's copy is a copy like any other (Copy.Replay names the
// letter): found by the search, or, outside the searched window, read at the sequence the key's replay index
// records. ExplainRecord lists the submitter's dead letters of the record's origin id and their replays (a
// resubmission names the letter it comes from). ExplainFile takes a Connect file id or a ledger key and adds
// the entry's history (operators' moves with their names) and the operators' actions on it from the
// period's action log.
//
// # The reverse
//
// ExplainRecord takes a record id (the 40-hex record_id of the usage file) or a Connect record id (UR-…);
// ExplainFile a Connect usage file id (UF-…). A record's events are read from its partition: for a closed
// record, the messages from its period's start minus the future skew up to its last contributing packet
// (SourceSeq); for an adjustment, that one packet. Their count and events.Digest are compared with the
// record's (a match proves they are the events it counts). Once those messages have aged out of the stream
// (MaxAge), only the record's count and digest remain, and the answer says so.
//
// # Bounds
//
// Reading a partition's window costs reading that window of USAGE_EVENTS (the server reads every partition's
// messages of the range to hand out one's): Span.Messages and the times tell the cost. The dead letters of a
// stage in USAGE_DLQ are read whole (retention keeps the open ones and, for its MinAge, the replayed ones);
// replay logs are read by key (the letters found, the key's replay index), never all of them. A record id alone is
// searched in every record and adjustment of USAGE_AGG; its subject and time narrow it to one subject.
//
// # Concurrency
//
// A Service is safe for concurrent use; each call reads on its own.
package lineage
