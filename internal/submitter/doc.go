// Package submitter turns closed usage periods into usage files accepted by CloudBlue Connect: step 3 of the
// flow in docs/DESIGN.md, where money leaves the system. No period may be lost, reported twice or blocked by
// another.
//
// # Model
//
// The ledger (internal/ledger, KV bucket usagepipe_ledger) is the source of truth. It holds one entry per
// usage file, keyed by its file id, written only with compare-and-set; an entry is a small state machine
// (ledger.State, with a pure transition table) that mirrors the Connect file's life: planned → created →
// uploaded → ready → submitted → accepted, with invalid → repairing → uploaded for repairs, and the parked
// ends rejected and failed. Three roles work on it, each a type with only the dependencies it uses:
//
//   - The planner (planner.go, plan_*.go) writes entries; it reads USAGE_AGG and never calls Connect. A
//     durable consumer of usage.agg.mark.> plans the files of (product, contract, period) once every
//     partition has marked it (the aggregator commits marks after the records they count, so all closed
//     records are then in USAGE_AGG): plan_closed.go reads the period's closed records, de-duplicated by
//     record id and sorted by it, and plan_files.go cuts them into parts of at most MaxRecordsPerFile records,
//     each part an entry (revision 0), and hands the new entries to the driver. A durable consumer of
//     usage.agg.adj.> plans supplements (plan_supplements.go): supplement n (revision n ≥ 1) is the fixed set
//     of adjustment messages with stream sequences in (FromSeq, ToSeq], written to the ledger before any
//     Connect call, each adjustment reported as its delta. Supplement n is planned only once the file before
//     it is handed over (submitted or ended: supplement_order.go), so the adjustments that arrive meanwhile
//     make one file; a driver handing a file over nudges the planner (plan_nudge.go). Planning is idempotent (Create only). A revision
//     that cannot be planned (records missing past PlanGrace, more records than the marks count, the product
//     missing from the catalog past PlanGrace, a plan the stream no longer yields) is written as failed
//     entries with the reason and its message settled (plan_park.go): the failure is in the ledger, never
//     retried in a loop; once an operator resolves it (internal/parked: retry), the ledger scan plans it
//     again (plan_replan.go); a supplement parked for its base is planned again once the base is billed.
//   - The driver (driver.go, drive_*.go) runs every non-terminal entry on its own, at most Concurrency at a
//     time (drive_jobs.go), each step being one Connect operation followed by one CAS write of the outcome
//     (drive_entry.go, drive_steps.go): find-or-create by external_id, upload the workbook (rebuilt from the
//     stream, deterministic), wait for processing, submit, follow the provider's decision. A supplement is
//     created only once the file it corrects is submitted (not refused), and the previous supplement handed
//     over (drive_gate.go); a driver that hands a file over wakes the period's later supplements, and a
//     parked base flags the supplements already in Connect (drive_handover.go). Every step first observes the Connect file, so a step whose result was never written
//     (crash, lost answer) is recognised and not repeated. Entries are claimed with a lease in the entry
//     itself, so several submitters may run. A restarted submitter resumes every entry from the ledger. A
//     parked entry is read again at every scan: an operator may report it again (internal/parked: resubmit,
//     a Reupload into the same file or a new attempt's external id).
//   - The orphan sweeper (orphans.go) checks Connect's open usagepipe files against the ledger.
//   - Retention (retain.go, internal/retention) purges, every RetentionInterval, what USAGE_AGG and
//     USAGE_DLQ provably no longer need.
//
// What the planner and the driver share is the records of a revision read back from USAGE_AGG (records.go,
// records_cut.go: every upload rebuilds its workbook from the range an entry fixed), the metrics and spans
// (telemetry.go, tracing.go), file names (naming.go) and permanent failures (errors.go). Submitter (submitter.go)
// puts the roles together: it opens the ledger, runs the consumers, the driver, the sweeper, retention and the
// ledger scan, which hands the driver the entries it does not know and the planner the parked revisions.
//
// Never stalling. A failure is recorded in its entry and retried later (NextAt, with backoff and the
// server's Retry-After) without holding a worker; a permanent failure parks the entry as failed with its
// reason; an invalid file is repaired (its failing records go to USAGE_DLQ with Connect's error text and
// the rest is uploaded again: drive_repair.go, drive_exclusion.go); a rejected file is parked with the
// provider's note. None of these blocks any other entry.
//
// # Concurrency
//
// A Submitter is safe for concurrent use; Run starts the consumers, the driver and its workers, the ledger
// scan and the sweeper, and returns when its context ends and they have stopped. The planner's handlers run
// on the consumers' goroutines and share nothing mutable but the ledger (CAS) and the plan cache (locked).
// One process never runs two steps of the same entry at once; across processes the entry's lease and CAS
// writes keep it so.
package submitter
