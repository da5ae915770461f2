// Package submitter turns closed usage periods into usage files accepted by CloudBlue Connect: step 3 of the
// flow in docs/DESIGN.md, where money leaves the system. No period may be lost, reported twice or blocked by
// another.
//
// # Model
//
// The ledger (KV bucket usagepipe_ledger) is the source of truth. It holds one ledger.Entry per usage file, keyed by
// its file key (FileKey), written only with compare-and-set. An entry is a small state machine (ledger.State, with a
// pure transition table) that mirrors the Connect file's life: planned → created → uploaded → ready →
// submitted → accepted, with invalid → repairing → uploaded for repairs, and the parked ends rejected and
// failed.
//
//   - Planning. A durable consumer of usage.agg.mark.> plans the files of (product, contract, period) once
//     every partition has marked it (the aggregator commits marks after the records they count, so all closed
//     records are then in USAGE_AGG). The period's closed records are read, de-duplicated by record id,
//     sorted by it and cut into parts of at most MaxRecordsPerFile records; each part becomes a ledger entry
//     (revision 0). A durable consumer of usage.agg.adj.> plans supplements: supplement n (revision n ≥ 1)
//     is the fixed set of adjustment messages with stream sequences in (FromSeq, ToSeq], written to the ledger
//     before any Connect call, each adjustment reported as its delta. Planning is idempotent (Create only).
//     A revision that cannot be planned (records missing past PlanGrace, more records than the marks count,
//     the product missing from the catalog past PlanGrace, a plan the stream no longer yields) is written as
//     failed entries with the reason and its message settled: the failure is in the ledger, never retried
//     in a loop.
//   - Driving. A driver runs every non-terminal entry on its own, at most Concurrency at a time, each step
//     being one Connect operation followed by one CAS write of the outcome: find-or-create by external_id,
//     upload the workbook (rebuilt from the stream, deterministic), wait for processing, submit, follow the
//     provider's decision. A supplement is created only after the file it corrects has ended well, and after
//     the previous supplement has ended (gate.go). Every step first observes the Connect file, so a step
//     whose result was never written (crash, lost answer) is recognised and not repeated. Entries are
//     claimed with a lease in the entry itself, so several submitters may run. A restarted submitter resumes
//     every entry from the ledger.
//   - Never stalling. A failure is recorded in its entry and retried later (NextAt, with backoff and the
//     server's Retry-After) without holding a worker; a permanent failure parks the entry as failed with its
//     reason (one parked before it had a Connect file gets a parked key, and is planned again once an
//     operator deletes its entries: replan.go); an invalid file is repaired (its failing records go to USAGE_DLQ with Connect's error text and
//     the rest is uploaded again); a rejected file is parked with the provider's note. None of these blocks
//     any other entry.
//
// # Concurrency
//
// A Submitter is safe for concurrent use; Run starts the consumers, the driver and its workers and returns when
// its context ends and they have stopped. One process never runs two steps of the same entry at once; across
// processes the entry's lease and CAS writes keep it so.
package submitter
