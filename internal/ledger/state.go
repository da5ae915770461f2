package ledger

import "slices"

// State is where a usage file stands in the ledger.
type State string

// States of a ledger entry. Accepted, closed, rejected, failed and empty are terminal: the driver leaves them.
const (
	StatePlanned   State = "planned"   // in the ledger; no Connect file known yet
	StateCreated   State = "created"   // the Connect file exists (draft); nothing uploaded
	StateUploaded  State = "uploaded"  // a workbook is uploaded; Connect is processing it
	StateReady     State = "ready"     // processed without errors; to be submitted
	StateInvalid   State = "invalid"   // processed with errors; to be repaired
	StateRepairing State = "repairing" // failing records excluded (and dead-lettered); the rest to be uploaded
	StateSubmitted State = "submitted" // submitted; pending at the provider
	StateAccepted  State = "accepted"  // accepted by the provider (terminal)
	StateClosed    State = "closed"    // accepted and closed by the provider (terminal)
	StateRejected  State = "rejected"  // rejected by the provider: parked for an operator (terminal)
	StateFailed    State = "failed"    // a permanent error: parked for an operator, Reason says why (terminal)
	StateEmpty     State = "empty"     // nothing to report, e.g. every record dead-lettered (terminal)
	StateAbandoned State = "abandoned" // a parked file closed on purpose by an operator, with a note (terminal)
)

// AllStates lists every state in the order of a file's life, for metrics, views and tests.
var AllStates = []State{StatePlanned, StateCreated, StateUploaded, StateReady, StateInvalid, StateRepairing,
	StateSubmitted, StateAccepted, StateClosed, StateRejected, StateFailed, StateEmpty, StateAbandoned}

// transitions lists the states each state may move to. Besides the normal path, a state may jump ahead to
// any state its Connect file can have reached meanwhile: a step whose outcome was not recorded (crash, lost
// answer) is recognised by observing the file, and the ledger catches up.
var transitions = map[State][]State{
	StatePlanned: {StateCreated, StateUploaded, StateReady, StateInvalid, StateRepairing, StateSubmitted,
		StateAccepted, StateClosed, StateRejected, StateFailed, StateEmpty},
	StateCreated: {StateUploaded, StateReady, StateInvalid, StateRepairing, StateSubmitted, StateAccepted,
		StateClosed, StateRejected, StateFailed, StateEmpty},
	StateUploaded: {StateReady, StateInvalid, StateSubmitted, StateAccepted, StateClosed, StateRejected,
		StateFailed},
	StateReady:   {StateSubmitted, StateAccepted, StateClosed, StateRejected, StateFailed},
	StateInvalid: {StateRepairing, StateFailed, StateEmpty},
	StateRepairing: {StateUploaded, StateReady, StateInvalid, StateSubmitted, StateAccepted, StateClosed,
		StateRejected, StateFailed, StateEmpty},
	StateSubmitted: {StateAccepted, StateClosed, StateRejected, StateFailed},
}

// operatorMoves lists the moves only an operator makes (Entry.OperatorMove), out of the ends where the driver
// leaves a parked file: reported again (planned: a new Connect file; created: the same file uploaded again),
// or closed on purpose (abandoned).
var operatorMoves = map[State][]State{
	StateRejected: {StateCreated, StateAbandoned},
	StateFailed:   {StatePlanned, StateCreated, StateAbandoned},
}

// OperatorCanMove reports whether an operator may move an entry in state s to t.
func (s State) OperatorCanMove(t State) bool { return slices.Contains(operatorMoves[s], t) }

// CanBecome reports whether a ledger entry in state s may move to t. Staying in s is always allowed.
func (s State) CanBecome(t State) bool { return s == t || slices.Contains(transitions[s], t) }

// Terminal reports whether the driver is done with an entry in state s.
func (s State) Terminal() bool {
	switch s {
	case StateAccepted, StateClosed, StateRejected, StateFailed, StateEmpty, StateAbandoned:
		return true
	}
	return false
}

// Parked reports whether s waits for an operator (rejected or failed).
func (s State) Parked() bool { return s == StateRejected || s == StateFailed }

// Billed reports whether a file in state s is done with: accepted or closed by the provider, or empty
// (nothing to report). Such an entry never changes again.
func (s State) Billed() bool { return s == StateAccepted || s == StateClosed || s == StateEmpty }
