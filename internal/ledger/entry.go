package ledger

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// ErrBadTransition is a move the transition table forbids (Entry.MoveTo).
var ErrBadTransition = errors.New("ledger: transition not allowed")

// Entry is the ledger value of one usage file: what it holds (fixed when it is planned) and where it
// stands (changed only by the driver, with compare-and-set).
type Entry struct {
	// What the file holds.
	Key         string    `json:"key"`
	Product     string    `json:"product"`
	Contract    string    `json:"contract"`
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	Revision    int       `json:"revision"` // 0: the closed records; n ≥ 1: supplement n
	Part        int       `json:"part"`     // 1..Parts
	Parts       int       `json:"parts"`
	Limit       int       `json:"limit"`              // records per part when planned
	FromSeq     uint64    `json:"from_seq,omitempty"` // supplements: adjustment messages with FromSeq < seq ≤ ToSeq
	ToSeq       uint64    `json:"to_seq,omitempty"`
	Records     int       `json:"records"` // records of this part (before exclusions)
	Digest      string    `json:"digest"`  // of their sorted record ids
	Spec        FileSpec  `json:"spec"`
	ExternalID  string    `json:"external_id"`
	Name        string    `json:"name"`
	ClosedAt    time.Time `json:"closed_at"`       // when the period closed (supplements: their newest adjustment)
	PlannedAt   time.Time `json:"planned_at"`      //
	Links       []string  `json:"links,omitempty"` // traceparents of the source messages, at most 128

	// Where it stands.
	State           State        `json:"state"`
	FileID          string       `json:"file_id,omitempty"`          // Connect's UF-…
	Status          string       `json:"status,omitempty"`           // Connect status last seen
	Excluded        []string     `json:"excluded,omitempty"`         // record ids dead-lettered, not uploaded
	Excluding       *Exclusion   `json:"excluding,omitempty"`        // records being dead-lettered, to be excluded
	InvalidUploadAt time.Time    `json:"invalid_upload_at,omitzero"` // events.uploaded.at of the upload found invalid
	Uploads         int          `json:"uploads,omitempty"`
	Attempts        int          `json:"attempts,omitempty"` // consecutive failed steps
	Polls           int          `json:"polls,omitempty"`    // reads of a file since it entered its state (or gate looks)
	Relists         int          `json:"relists,omitempty"`  // lookups left before another create (the submitter's drive_lookup.go)
	NextAt          time.Time    `json:"next_at,omitzero"`   // no step before this
	LastError       string       `json:"last_error,omitempty"`
	Reason          string       `json:"reason,omitempty"`      // why the entry is failed or empty
	Note            string       `json:"note,omitempty"`        // the provider's acceptance or rejection note
	BaseParked      string       `json:"base_parked,omitempty"` // a supplement in Connect when its base was found parked: "<base part key> <state>"
	History         []Transition `json:"history"`
	Owner           string       `json:"owner,omitempty"` // the submitter member driving it
	LeaseUntil      time.Time    `json:"lease_until,omitzero"`
	// What operators did to report a parked file again (OperatorMove).
	Reupload      *Reupload      `json:"reupload,omitempty"`       // the Connect file to upload again as it is
	Attempt       int            `json:"attempt,omitempty"`        // > 1: the file's ExternalID is FileID.ExternalIDAttempt(Attempt)
	PreviousFiles []PreviousFile `json:"previous_files,omitempty"` // files of earlier attempts, dead

	moves []Move // the moves made since the entry was read (TakeMoves)
}

// Move is one change of state of an entry made in memory, for the metrics and logs of whoever writes it.
type Move struct {
	From, To State
	At       time.Time
	Note     string
}

// Transition is one state an entry entered, and when; By names the operator who moved it (none: the
// submitter).
type Transition struct {
	State State     `json:"state"`
	At    time.Time `json:"at"`
	Note  string    `json:"note,omitempty"`
	By    string    `json:"by,omitempty"`
}

// Reupload is an operator's resubmission of a parked file into the same Connect file: the file's status, and
// the time of the event that put it there (rejected.at, else uploaded.at), when it was asked for. A file seen
// so is uploaded again rather than observed as parked; the upload clears it. A file that moved since (a new
// rejection, someone else's upload) is observed as usual.
type Reupload struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

// PreviousFile is a Connect file an entry had before an operator reported its content again in a new file.
type PreviousFile struct {
	FileID     string    `json:"file_id"`
	ExternalID string    `json:"external_id"`
	Status     string    `json:"status"`
	Until      time.Time `json:"until"`
}

// MaxHistory bounds an entry's history: the first transition and the latest ones are kept.
const MaxHistory = 48

// maxNote bounds the note of a transition, in characters.
const maxNote = 200

// Exclusion is a set of a file's records about to be dead-lettered and excluded from its uploads. It is
// written to the ledger first; the next step publishes the dead letters and only then moves the ids to
// Entry.Excluded. A step cut short after publishing (a crash, a lost ack) leaves the exclusion in the
// ledger, so the step that resumes it publishes the same dead letters again, with the same Nats-Msg-Id,
// which USAGE_DLQ's duplicate window drops.
type Exclusion struct {
	Reason  events.Reason     `json:"reason"`
	Records map[string]string `json:"records"` // record id → why (e.g. Connect's error text)
}

// FileSpec is what a workbook needs from the catalog, copied when the file is planned so that every upload
// of the file has the same content whatever happens to the catalog later.
type FileSpec struct {
	ProductName string              `json:"product_name"`
	Schema      events.Schema       `json:"schema"`
	Currency    string              `json:"currency"`
	AssetSearch string              `json:"asset_search"`
	TimeZone    string              `json:"time_zone,omitempty"`
	Items       map[string]ItemSpec `json:"items"` // by MPN
}

// ItemSpec is how a workbook row finds an item, and the item's precision.
type ItemSpec struct {
	Criteria  string           `json:"criteria"`
	Value     string           `json:"value"`
	Precision events.Precision `json:"precision"`
}

// Location is the product's time zone (UTC when unknown), for file names.
func (s *FileSpec) Location() *time.Location {
	if loc, err := time.LoadLocation(s.TimeZone); err == nil && s.TimeZone != "" {
		return loc
	}
	return time.UTC
}

// ID returns the file's identity.
func (e *Entry) ID() FileID {
	return FileID{Product: e.Product, Contract: e.Contract, PeriodStart: e.PeriodStart, Revision: e.Revision, Part: e.Part}
}

// Kind is "closed" for the files of a period's closed records (revision 0), "supplement" for the others.
func (e *Entry) Kind() string {
	if e.Revision == 0 {
		return "closed"
	}
	return "supplement"
}

// MoveTo records the entry entering state t at now, with a note (cut to 200 characters), in its state, its
// history (bounded by MaxHistory) and its moves. A move the transition table forbids is refused
// (ErrBadTransition); staying in the same state records nothing.
func (e *Entry) MoveTo(t State, now time.Time, note string) error {
	if !e.State.CanBecome(t) {
		return fmt.Errorf("%w: %s → %s", ErrBadTransition, e.State, t)
	}
	if t == e.State {
		return nil
	}
	e.moves = append(e.moves, Move{From: e.State, To: t, At: now.UTC(), Note: clip(note, maxNote)})
	e.State = t
	e.Polls = 0
	e.History = append(e.History, Transition{State: t, At: now.UTC(), Note: clip(note, maxNote)})
	if n := len(e.History); n > MaxHistory {
		e.History = append(e.History[:1], e.History[n-MaxHistory+1:]...)
	}
	return nil
}

// OperatorMove records an operator (by) moving the entry from a parked end to t (State.OperatorCanMove), with
// a note, in its state, history and moves; the driver's bookkeeping of the old file's steps (attempts, polls,
// errors, lease) starts afresh. A move the operator table forbids is refused (ErrBadTransition).
func (e *Entry) OperatorMove(t State, now time.Time, by, note string) error {
	if !e.State.OperatorCanMove(t) {
		return fmt.Errorf("%w: %s → %s by an operator", ErrBadTransition, e.State, t)
	}
	note = clip(note, maxNote)
	e.moves = append(e.moves, Move{From: e.State, To: t, At: now.UTC(), Note: note})
	e.State = t
	e.History = append(e.History, Transition{State: t, At: now.UTC(), Note: note, By: clip(by, maxNote)})
	if n := len(e.History); n > MaxHistory {
		e.History = append(e.History[:1], e.History[n-MaxHistory+1:]...)
	}
	if t != StateAbandoned {
		e.Attempts, e.Polls, e.Relists, e.NextAt, e.LastError, e.Reason = 0, 0, 0, time.Time{}, "", ""
		e.Owner, e.LeaseUntil = "", time.Time{}
	}
	return nil
}

// TakeMoves returns the moves made since the entry was read (or since the last TakeMoves) and forgets them.
func (e *Entry) TakeMoves() []Move {
	m := e.moves
	e.moves = nil
	return m
}

// ExcludedSet returns the set of excluded record ids.
func (e *Entry) ExcludedSet() map[string]bool {
	set := make(map[string]bool, len(e.Excluded))
	for _, id := range e.Excluded {
		set[id] = true
	}
	return set
}

// ParkedWithoutFile reports whether e is parked before Connect had a file for it (failed without a file
// id): planning it again can only help, and loses nothing. Such a revision gets a parked key (Parked).
func (e *Entry) ParkedWithoutFile() bool { return e.State == StateFailed && e.FileID == "" }

// clip cuts s to at most n characters, marking the cut with "…".
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
