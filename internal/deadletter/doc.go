// Package deadletter is the one view of every dead letter — usage that could not be counted or billed — and
// its replay (docs/DESIGN.md, "Nothing billable left behind").
//
// # Model
//
// Dead letters are stored in two places, never copied elsewhere: USAGE_DLQ (usage.dlq.<stage>.<reason>: the
// rejections ingest keeps with --keep-rejected, and the records the submitter could not get billed,
// connect_invalid and unwritable) and USAGE_AGG (usage.agg.dlq.<p>: what the aggregator's fold refused,
// several letters to a message). A Letter is one of them, named by where it is stored: dlq-<seq> or
// agg-<seq>-<line>. It holds an event (ingest, aggregator), a record (submitter) or an unreadable message
// (aggregator: bad_json, unknown_kind), and its state comes from the replay log in the ledger: open (never
// replayed), refused (its last replay was refused: still open), interrupted (a replay stopped before it
// finished: resumed by the next one), replayed or duplicate.
//
// Service.List filters the letters of both places and counts them by stage × reason; Service.Show reads one.
// Service.Replay decides, for each open letter a filter selects, what its replay does — count (an event its
// period still takes), adjust (an event of a closed period: an adjustment, in a supplementary file),
// resubmit (a record: a new supplementary file), duplicate, refused — and, when told to execute, does it at
// most once ever: log first (ledger.Replay, KV Create), check the partition and the key's replay index,
// claim the key (ledger.ReplayIndex), publish with Nats-Msg-Id replay-<id>, then finish the log. Replays
// answers "which replays concern this letter, event or record" (explain).
//
// # Bounds
//
// Listing reads both places whole (as far as retention keeps them), narrowed by stage and reason through
// subject filters and by --since through the read's start time. A replay of events reads, for each partition
// concerned, every packet USAGE_EVENTS retains (MaxAge) and that partition's aggregator dead letters: the
// horizon of its duplicate check.
//
// # Concurrency
//
// A Service is safe for concurrent use; so are replays of the same letters by several processes: every write
// is a KV Create or a compare-and-set, and a repeated publish carries the same Nats-Msg-Id.
package deadletter
