// Package parked is the operators' hand on parked usage files: the ledger entries the submitter left
// rejected (by the provider) or failed (a permanent failure, with its reason), and what an operator does
// about them (docs/DESIGN.md, "Nothing billable left behind").
//
// # Model
//
// A View is one parked entry with what can be done: Retry (a revision parked before Connect had a file for
// it: its failed parts are deleted so that a submitter plans it again, once the cause is visibly gone),
// Resubmit (a rejected file, or a failed one with a Connect file: reported again, into the same Connect file
// when Connect allows a new upload, else into a new one under the next attempt's external id, never beside
// a file that may be accepted), Abandon (closed on purpose, with a note: it stops alerting, its data stays).
// Each action is decided on what it reads and written with one compare-and-set per entry; the entry's
// history records the operator (ledger.Entry.OperatorMove) and the period's action log the action
// (ledger.Action). A refusal is a *RefusedError (errors.Is ErrRefused) saying why.
//
// # Concurrency
//
// A Service is safe for concurrent use; two operators, or an operator and a submitter, never both win a
// write (compare-and-set): the loser is refused ("changed meanwhile") or, for a retry, finds less to do.
package parked
