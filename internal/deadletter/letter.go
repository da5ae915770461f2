package deadletter

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// Kind is what a dead letter holds.
type Kind string

// Kinds of dead letters.
const (
	KindEvent   Kind = "event"   // a usage event (ingest's kept rejections, the aggregator's fold refusals)
	KindRecord  Kind = "record"  // a period record the submitter could not get billed
	KindMessage Kind = "message" // a message that is not a packet of events (nothing to replay)
)

// State is where a letter stands, from its replay log.
type State string

// States of a letter.
const (
	StateOpen        State = "open"        // never replayed
	StateRefused     State = "refused"     // its last replay was refused (still invalid): open
	StateInterrupted State = "interrupted" // a replay stopped before it finished: the next one resumes it
	StateReplayed    State = "replayed"    // replayed: its copy was published once
	StateDuplicate   State = "duplicate"   // found counted already: nothing published
)

// Open reports whether the letter still waits for an operator.
func (s State) Open() bool { return s == StateOpen || s == StateRefused || s == StateInterrupted }

// StateOf is the state the replay log r (nil: none) gives a letter.
func StateOf(r *ledger.Replay) State {
	switch {
	case r == nil:
		return StateOpen
	case r.State == ledger.ReplayDone:
		return StateReplayed
	case r.State == ledger.ReplayDuplicate:
		return StateDuplicate
	case r.State == ledger.ReplayRefused:
		return StateRefused
	}
	return StateInterrupted
}

// Letter is one dead letter, where it is stored and what it holds.
type Letter struct {
	ID      string        `json:"id"`
	Stage   string        `json:"stage"`
	Reason  events.Reason `json:"reason"`
	Message string        `json:"message"`
	At      time.Time     `json:"at"` // when it was dead-lettered (the aggregator's: its source message's time)
	State   State         `json:"state"`

	Stream    string `json:"stream"`     // USAGE_DLQ or USAGE_AGG
	StoredOn  string `json:"stored_on"`  // its subject there
	StoredSeq uint64 `json:"stored_seq"` // its message's sequence there
	Line      int    `json:"line"`       // its line in the message (USAGE_AGG)

	From    string `json:"from,omitempty"`     // the subject it came from (ingest: the partition it would have gone to)
	FromSeq uint64 `json:"from_seq,omitempty"` // and its sequence there

	Kind         Kind                 `json:"kind"`
	Product      string               `json:"product,omitempty"`
	Contract     string               `json:"contract,omitempty"`
	Subscription string               `json:"subscription,omitempty"`
	PeriodStart  time.Time            `json:"period_start,omitzero"`
	PeriodEnd    time.Time            `json:"period_end,omitzero"`
	Event        *events.Event        `json:"event,omitempty"`
	Record       *events.PeriodRecord `json:"record,omitempty"`
	FileKey      string               `json:"file_key,omitempty"`     // the submitter's: the ledger entry of its file
	ConnectFile  string               `json:"connect_file,omitempty"` // and its Connect file
	Payload      []byte               `json:"payload"`                // the original bytes
	Replay       *ledger.Replay       `json:"replay,omitempty"`       // its replay log
}

// Headers of the submitter's dead letters (internal/submitter drive_deadletter.go).
const (
	headerFileKey     = "Usagepipe-File-Key"
	headerConnectFile = "Usagepipe-Connect-File"
)

// dlqID and aggID name a letter by where it is stored.
func dlqID(seq uint64) string { return "dlq-" + strconv.FormatUint(seq, 10) }
func aggID(seq uint64, line int) string {
	return "agg-" + strconv.FormatUint(seq, 10) + "-" + strconv.Itoa(line)
}

// ParseID reads a letter id: its stream, message sequence and line.
func ParseID(id string) (stream string, seq uint64, line int, err error) {
	parts := strings.Split(id, "-")
	bad := fmt.Errorf("deadletter: %q is not a dead letter id (dlq-<seq> or agg-<seq>-<line>)", id)
	switch {
	case len(parts) == 2 && parts[0] == "dlq":
		stream = bus.StreamDLQ
	case len(parts) == 3 && parts[0] == "agg":
		stream = bus.StreamAgg
		if line, err = strconv.Atoi(parts[2]); err != nil || line < 0 || strconv.Itoa(line) != parts[2] {
			return "", 0, 0, bad
		}
	default:
		return "", 0, 0, bad
	}
	seq, err = strconv.ParseUint(parts[1], 10, 64)
	if err != nil || seq == 0 || strconv.FormatUint(seq, 10) != parts[1] {
		return "", 0, 0, bad
	}
	return stream, seq, line, nil
}

// newLetter makes the letter of dl, stored at m (line of its message), and decodes what it holds.
func newLetter(id string, m bus.Msg, line int, dl *events.DeadLetter, cat *events.Catalog) Letter {
	l := Letter{ID: id, Stage: dl.Stage, Reason: dl.Reason, Message: dl.Message, At: dl.At.UTC(), State: StateOpen,
		StoredOn: m.Subject, StoredSeq: m.Seq, Line: line, From: dl.Subject, FromSeq: dl.Seq,
		Payload: dl.OriginalPayload(), Kind: KindMessage}
	if m.Header != nil {
		l.FileKey, l.ConnectFile = m.Header.Get(headerFileKey), m.Header.Get(headerConnectFile)
	}
	switch {
	case dl.Stage == events.StageSubmitter:
		l.decodeRecord()
	case dl.Reason != events.ReasonBadJSON && dl.Reason != events.ReasonUnknownKind:
		l.decodeEvent(cat)
	}
	return l
}

func (l *Letter) decodeEvent(cat *events.Catalog) {
	e, rej := events.DecodeEvent(l.Payload)
	if rej != nil {
		return // not an event after all: a message
	}
	l.Kind, l.Event = KindEvent, &e
	l.Product, l.Subscription, l.Contract = e.Data.Product, e.Subject, e.Data.Contract
	if p, ok := cat.Product(e.Data.Product); ok {
		pd := p.PeriodOf(e.Time)
		l.PeriodStart, l.PeriodEnd = pd.Start, pd.End
		if c, ok := p.ContractFor(&e); ok {
			l.Contract = c
		}
	}
}

func (l *Letter) decodeRecord() {
	var r events.PeriodRecord
	if err := json.Unmarshal(l.Payload, &r); err != nil || r.Product == "" {
		return
	}
	l.Kind, l.Record = KindRecord, &r
	l.Product, l.Contract, l.Subscription = r.Product, r.Contract, r.Subscription
	l.PeriodStart, l.PeriodEnd = r.PeriodStart.UTC(), r.PeriodEnd.UTC()
}
