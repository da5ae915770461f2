package lineage

import (
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregate"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// Span is a range of a stream that an answer read: where it looked.
type Span struct {
	Stream    string    `json:"stream"`
	Filter    string    `json:"filter"`
	Partition int       `json:"partition"`
	FromTime  time.Time `json:"from_time"`         // the range asked for
	ToTime    time.Time `json:"to_time"`           //
	FirstSeq  uint64    `json:"first_seq"`         // the messages read: first and last (0: none)
	LastSeq   uint64    `json:"last_seq"`          //
	FirstAt   time.Time `json:"first_at,omitzero"` //
	LastAt    time.Time `json:"last_at,omitzero"`  //
	Messages  int       `json:"messages"`          // messages of the filter read
	Complete  bool      `json:"complete"`          // the whole range asked for was read
	Note      string    `json:"note,omitempty"`    // why it starts or stops where it does
}

// Fates of a stored copy of an event.
const (
	FatePending    = "pending"     // stored; the aggregator has not committed past it yet
	FateDeadLetter = "dead_letter" // dead-lettered by the aggregator (usage.agg.dlq.<p>)
	FateDuplicate  = "duplicate"   // an earlier copy was counted within the dedup horizon
	FateCounted    = "counted"     // folded into its period
)

// Copy is one stored copy of an event: a line of a packet in USAGE_EVENTS.
type Copy struct {
	Partition   int          `json:"partition"`
	Seq         uint64       `json:"seq"`
	Arrival     time.Time    `json:"arrival"` // the packet's stream time
	MsgID       string       `json:"msg_id"`  // the packet's Nats-Msg-Id
	Line        int          `json:"line"`    // 1-based line of the event in the packet
	Fate        string       `json:"fate"`
	DuplicateOf uint64       `json:"duplicate_of,omitempty"` // the counted copy's seq
	DeadLetter  *DeadLetter  `json:"dead_letter,omitempty"`
	Event       events.Event `json:"event"`            // the content as stored
	Replay      string       `json:"replay,omitempty"` // the dead letter this copy replays (a replay's copy)
	Note        string       `json:"note,omitempty"`
}

// DeadLetter is a dead letter holding an event (a copy the aggregator refused, a rejection ingest kept) or a
// record (the submitter's).
type DeadLetter struct {
	ID      string        `json:"id"` // as usagepipe dlq show and replay take it (internal/deadletter)
	State   string        `json:"state,omitempty"`
	Stream  string        `json:"stream"`
	Subject string        `json:"subject"`
	Seq     uint64        `json:"seq"` // of the dead-letter message
	Reason  events.Reason `json:"reason"`
	Message string        `json:"message"`
	At      time.Time     `json:"at"`
}

// Record is a closed record or adjustment as stored in USAGE_AGG.
type Record struct {
	RecordID string              `json:"record_id"` // the usage file's record_id (events.PeriodRecord.RecordID)
	Subject  string              `json:"subject"`
	Seq      uint64              `json:"seq"`                // of its message in USAGE_AGG
	At       time.Time           `json:"at"`                 // its commit's stream time
	Reported events.Decimal      `json:"reported"`           // what a usage file reports for it (ledger.Reported)
	LeftOut  bool                `json:"left_out,omitempty"` // an adjustment that changes nothing: in no file
	Record   events.PeriodRecord `json:"record"`
}

// FileRef is the usage file holding a record: its ledger entry and, when Connect was asked, the Connect file
// and record.
type FileRef struct {
	LedgerKey     string `json:"ledger_key"`
	Revision      int    `json:"revision"` // 0: the closed records' file; n: supplement n
	Part          int    `json:"part"`
	Parts         int    `json:"parts"`
	State         string `json:"state"`
	Reason        string `json:"reason,omitempty"`
	Excluded      bool   `json:"excluded,omitempty"` // this record was dead-lettered by the submitter, not uploaded
	FileID        string `json:"file_id,omitempty"`  // Connect's UF-…
	LedgerStatus  string `json:"ledger_status,omitempty"`
	ConnectStatus string `json:"connect_status,omitempty"` // read from Connect now
	ConnectRecord string `json:"connect_record,omitempty"` // UR-…
	RecordStatus  string `json:"connect_record_status,omitempty"`
	BaseParked    string `json:"base_parked,omitempty"` // a supplement in Connect while its base was parked (ledger.Entry.BaseParked)
	Note          string `json:"note,omitempty"`        // what could not be read or matched
}

// Counting is where the counted copy went.
type Counting struct {
	Product     string              `json:"product"`
	Contract    string              `json:"contract"`
	Item        string              `json:"item"`
	Tier        int                 `json:"tier,omitempty"`
	PeriodStart time.Time           `json:"period_start"`
	PeriodEnd   time.Time           `json:"period_end"`
	ClosesAt    time.Time           `json:"closes_at"` // period end + allowed lateness
	Late        bool                `json:"late"`      // arrived after the close: an adjustment
	State       string              `json:"state"`     // open | closed | adjusted | unchanged | not_committed
	Record      *Record             `json:"record,omitempty"`
	File        *FileRef            `json:"file,omitempty"`
	Usage       *aggregate.KeyUsage `json:"usage,omitempty"` // open: the owner's value so far
	Note        string              `json:"note,omitempty"`
}

// States of a Counting.
const (
	CountOpen         = "open"          // the period has not closed: its record is to come
	CountClosed       = "closed"        // in the period's closed record (revision 0)
	CountAdjusted     = "adjusted"      // late: in an adjustment (revision ≥ 1)
	CountUnchanged    = "unchanged"     // late, but the value did not change (max, min, last, unique_count)
	CountNotCommitted = "not_committed" // the period closed but the partition's records are not found
)

// EventQuery names an event: its key, and to bound the search its subject and time. Early searches the early
// part of the window (package doc) even when a copy was found after it.
type EventQuery struct {
	Source  string    `json:"source"`
	ID      string    `json:"id"`
	Subject string    `json:"subject,omitempty"`
	Time    time.Time `json:"time,omitzero"`
	Early   bool      `json:"early,omitempty"`
}

// EventAnswer is what happened to an event.
type EventAnswer struct {
	Query    EventQuery      `json:"query"`
	Summary  string          `json:"summary"` // one line for a person
	Found    bool            `json:"found"`
	Copies   []Copy          `json:"copies,omitempty"`
	Counting *Counting       `json:"counting,omitempty"`
	Kept     []DeadLetter    `json:"kept,omitempty"`    // rejections of the event ingest kept (--keep-rejected)
	Replays  []ledger.Replay `json:"replays,omitempty"` // replays of the dead letters holding it (who, when, outcome)
	Searched []Span          `json:"searched"`
	Notes    []string        `json:"notes,omitempty"`
}

// EventRef is one event of a record, as the stream holds it.
type EventRef struct {
	Seq      uint64         `json:"seq"`
	Arrival  time.Time      `json:"arrival"`
	Line     int            `json:"line"`
	Source   string         `json:"source"`
	ID       string         `json:"id"`
	Time     time.Time      `json:"time"`
	Quantity events.Decimal `json:"quantity"`
}

// RecordEvents are the events found to make a record.
type RecordEvents struct {
	Count    int        `json:"count"`
	Digest   string     `json:"digest"`  // events.Digest of their keys
	Matches  bool       `json:"matches"` // count and digest equal the record's
	Events   []EventRef `json:"events,omitempty"`
	Searched []Span     `json:"searched"`
	Note     string     `json:"note,omitempty"`
}

// RecordAnswer explains one record.
type RecordAnswer struct {
	Query   string        `json:"query"`
	Summary string        `json:"summary"`
	Record  Record        `json:"record"`
	File    *FileRef      `json:"file,omitempty"`
	Events  *RecordEvents `json:"events,omitempty"`
	// DeadLetters are the submitter's dead letters of the record (or of the record it resubmits), Replays
	// their replays.
	DeadLetters []DeadLetter    `json:"dead_letters,omitempty"`
	Replays     []ledger.Replay `json:"replays,omitempty"`
	Searched    []Span          `json:"searched,omitempty"` // where the record was looked for
}

// FileAnswer explains one usage file: its ledger entry and the records it holds.
type FileAnswer struct {
	Query   string         `json:"query"`
	Summary string         `json:"summary"`
	File    FileRef        `json:"file"`
	Records []RecordAnswer `json:"records"`
	Events  int64          `json:"events"` // events counted by its records (their Events)
	// History is the entry's states, each with when and, for an operator's move, by whom; Actions the
	// operators' actions on it (and on its revision's parked key) from the period's action log; PreviousFiles
	// the Connect files of its earlier attempts (a resubmission into a new file).
	History       []ledger.Transition   `json:"history"`
	Actions       []ledger.Action       `json:"actions,omitempty"`
	PreviousFiles []ledger.PreviousFile `json:"previous_files,omitempty"`
	Note          string                `json:"note,omitempty"`
}
