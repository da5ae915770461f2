package submitter

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

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
	Links       []string  `json:"links,omitempty"` // traceparents of the source messages, at most maxLinks

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
	Relists         int          `json:"relists,omitempty"`  // lookups left before another create (lookup.go)
	NextAt          time.Time    `json:"next_at,omitzero"`   // no step before this
	LastError       string       `json:"last_error,omitempty"`
	Reason          string       `json:"reason,omitempty"` // why the entry is failed or empty
	Note            string       `json:"note,omitempty"`   // the provider's acceptance or rejection note
	History         []Transition `json:"history"`
	Owner           string       `json:"owner,omitempty"` // the submitter member driving it
	LeaseUntil      time.Time    `json:"lease_until,omitzero"`

	moves []move // the moves made since the entry was read, for metrics and logs once written
}

// move is one change of state of an entry.
type move struct {
	from, to State
	at       time.Time
	note     string
}

// Transition is one state an entry entered, and when.
type Transition struct {
	State State     `json:"state"`
	At    time.Time `json:"at"`
	Note  string    `json:"note,omitempty"`
}

// maxHistory bounds an entry's history: the first transition and the latest ones are kept.
const maxHistory = 48

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

// ID returns the file's identity.
func (e *Entry) ID() FileID {
	return FileID{Product: e.Product, Contract: e.Contract, PeriodStart: e.PeriodStart, Revision: e.Revision, Part: e.Part}
}

// moveTo records the entry entering state t at now. A move the transition table forbids is refused.
func (e *Entry) moveTo(t State, now time.Time, note string) error {
	if !e.State.CanBecome(t) {
		return fmt.Errorf("%w: %s → %s", errBadTransition, e.State, t)
	}
	if t == e.State {
		return nil
	}
	e.moves = append(e.moves, move{from: e.State, to: t, at: now.UTC(), note: clip(note, 200)})
	e.State = t
	e.Polls = 0
	e.History = append(e.History, Transition{State: t, At: now.UTC(), Note: clip(note, 200)})
	if n := len(e.History); n > maxHistory {
		e.History = append(e.History[:1], e.History[n-maxHistory+1:]...)
	}
	return nil
}

// excluded returns the set of excluded record ids.
func (e *Entry) excluded() map[string]bool {
	set := make(map[string]bool, len(e.Excluded))
	for _, id := range e.Excluded {
		set[id] = true
	}
	return set
}

func encodeEntry(e *Entry) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("submitter: encode entry %s: %w", e.Key, err)
	}
	return b, nil
}

func decodeEntry(b []byte) (*Entry, error) {
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("submitter: decode ledger entry: %w", err)
	}
	return &e, nil
}
