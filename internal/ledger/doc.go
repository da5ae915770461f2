// Package ledger is the submitter's ledger: the KV bucket usagepipe_ledger, the source of truth of every
// usage file usagepipe reports to Connect (docs/DESIGN.md, "Streams, subjects and buckets"). It owns the
// ledger's layout and its rules: the keys, the entry and its codec, the state machine of a file, and the
// reads and compare-and-set writes of the bucket. The submitter plans and drives entries through it; the
// reconciliation and operator commands read it through it.
//
// # Model
//
// The bucket holds three kinds of values, each under its own key layout (keys.go):
//
//   - an Entry per usage file, at file.<product>.<contract>.<periodKey>.r<revision>.p<part> (FileID.Key):
//     what the file holds, fixed when it is planned, and where it stands: a State with a pure transition
//     table (CanBecome) mirroring the Connect file's life, planned → created → uploaded → ready →
//     submitted → accepted, with invalid → repairing → uploaded for repairs and the ends closed, rejected,
//     failed and empty, and a bounded History of the states it entered;
//   - a SupplementIndex per period, at supp.<product>.<contract>.<periodKey>: how far the period's
//     adjustments are planned into supplements;
//   - a Parked revision, at parked.<product>.<contract>.<periodKey>.r<revision>: a revision parked before
//     Connect had a file for it, with what is needed to plan it again once an operator resolves it;
//   - the operators' Actions on a period, at ops.<product>.<contract>.<periodKey> (actions.go);
//   - a Replay log per dead letter replayed, at replay.<dead letter id>, and a ReplayIndex per event or
//     record replayed, at replayed.ev.<key hash> or replayed.rec.<origin id> (replay.go).
//
// Parked entries leave their ends only by an operator's hand (Entry.OperatorMove, its own table): reported
// again (planned, created with a Reupload) or closed on purpose (abandoned); the transition records who.
//
// Every write is compare-and-set: a value is created once (Create, bus.ErrExists when the key is taken) and
// then only changed, or deleted, at the revision read (bus.ErrRevisionMismatch when someone wrote since).
// There is no unconditional write (Delete, of an entry or a parked key, is compare-and-set too). Reads return bus.ErrNotFound for a missing key.
//
// # Concurrency
//
// A Store is safe for concurrent use (the bucket serialises writes; CAS resolves races between processes).
// An Entry is a plain value owned by whoever read it.
package ledger
