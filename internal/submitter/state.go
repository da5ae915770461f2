package submitter

import (
	"slices"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

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
)

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

// CanBecome reports whether a ledger entry in state s may move to t. Staying in s is always allowed.
func (s State) CanBecome(t State) bool { return s == t || slices.Contains(transitions[s], t) }

// Terminal reports whether the driver is done with an entry in state s.
func (s State) Terminal() bool {
	switch s {
	case StateAccepted, StateClosed, StateRejected, StateFailed, StateEmpty:
		return true
	}
	return false
}

// Parked reports whether s waits for an operator (rejected or failed).
func (s State) Parked() bool { return s == StateRejected || s == StateFailed }

// stateOf maps a Connect file status to the ledger state it means. A deleted file (or an unknown status)
// is failed: someone outside the submitter removed it.
func stateOf(st usageapi.FileStatus) State {
	switch {
	case st == usageapi.FileStatusDraft:
		return StateCreated
	case st.Processing():
		return StateUploaded
	}
	switch st {
	case usageapi.FileStatusReady:
		return StateReady
	case usageapi.FileStatusInvalid:
		return StateInvalid
	case usageapi.FileStatusPending:
		return StateSubmitted
	case usageapi.FileStatusAccepted:
		return StateAccepted
	case usageapi.FileStatusClosed:
		return StateClosed
	case usageapi.FileStatusRejected:
		return StateRejected
	}
	return StateFailed
}

// allStates lists every state, for metrics and tests.
var allStates = []State{StatePlanned, StateCreated, StateUploaded, StateReady, StateInvalid, StateRepairing,
	StateSubmitted, StateAccepted, StateClosed, StateRejected, StateFailed, StateEmpty}
