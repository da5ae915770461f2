package submitter

import (
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

func TestStateTransitions(t *testing.T) {
	tests := []struct {
		from, to State
		want     bool
	}{
		{StatePlanned, StateCreated, true},
		{StatePlanned, StateSubmitted, true}, // resumed: the file had got that far
		{StateCreated, StateUploaded, true},
		{StateCreated, StateRepairing, true}, // unwritable records excluded before the first upload
		{StateUploaded, StateReady, true},
		{StateUploaded, StateInvalid, true},
		{StateUploaded, StateCreated, false},
		{StateReady, StateSubmitted, true},
		{StateReady, StateUploaded, false}, // a ready file is never uploaded again
		{StateInvalid, StateRepairing, true},
		{StateInvalid, StateReady, false},
		{StateRepairing, StateUploaded, true},
		{StateRepairing, StateInvalid, true},
		{StateSubmitted, StateAccepted, true},
		{StateSubmitted, StateRejected, true},
		{StateSubmitted, StateReady, false},
		{StateAccepted, StateClosed, false}, // terminal
		{StateRejected, StateSubmitted, false},
		{StateFailed, StatePlanned, false},
		{StateEmpty, StateCreated, false},
		{StateAccepted, StateAccepted, true}, // staying is always allowed
	}
	for _, tt := range tests {
		if got := tt.from.CanBecome(tt.to); got != tt.want {
			t.Errorf("%s → %s: got %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestEveryNonTerminalStateCanFail(t *testing.T) {
	for _, s := range allStates {
		if s.Terminal() {
			if len(transitions[s]) != 0 {
				t.Errorf("terminal state %s has transitions %v", s, transitions[s])
			}
			continue
		}
		if !s.CanBecome(StateFailed) {
			t.Errorf("%s cannot become failed: a permanent error could not be recorded", s)
		}
		if operation(&Entry{State: s}) == string(s) {
			t.Errorf("non-terminal state %s has no operation", s)
		}
	}
}

func TestStateOfConnectStatus(t *testing.T) {
	tests := map[usageapi.FileStatus]State{
		usageapi.FileStatusDraft: StateCreated, usageapi.FileStatusUploading: StateUploaded,
		usageapi.FileStatusUploaded: StateUploaded, usageapi.FileStatusProcessing: StateUploaded,
		usageapi.FileStatusReady: StateReady, usageapi.FileStatusInvalid: StateInvalid,
		usageapi.FileStatusPending: StateSubmitted, usageapi.FileStatusAccepted: StateAccepted,
		usageapi.FileStatusClosed: StateClosed, usageapi.FileStatusRejected: StateRejected,
		usageapi.FileStatusDeleted: StateFailed, "processed": StateFailed,
	}
	for status, want := range tests {
		if got := stateOf(status); got != want {
			t.Errorf("status %s: got %s, want %s", status, got, want)
		}
	}
}

func TestMoveToRecordsHistoryAndRefusesBadMoves(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	e := &Entry{State: StatePlanned, History: []Transition{{State: StatePlanned, At: t0}}, Polls: 3}
	if err := e.moveTo(StateCreated, t0.Add(time.Second), ""); err != nil {
		t.Fatal(err)
	}
	if err := e.moveTo(StateCreated, t0.Add(2*time.Second), ""); err != nil {
		t.Fatal(err)
	}
	if len(e.History) != 2 || e.History[1].State != StateCreated || e.Polls != 0 {
		t.Fatalf("history %+v polls %d", e.History, e.Polls)
	}
	if err := e.moveTo(StatePlanned, t0, ""); err == nil {
		t.Fatal("created → planned was allowed")
	}
	if len(e.moves) != 1 || e.moves[0].from != StatePlanned || e.moves[0].to != StateCreated || !e.moves[0].at.Equal(t0.Add(time.Second)) {
		t.Fatalf("moves %+v, want planned → created once", e.moves)
	}
}

func TestHistoryIsBounded(t *testing.T) {
	t0 := time.Now()
	e := &Entry{State: StateInvalid, History: []Transition{{State: StatePlanned, At: t0}}}
	for i := range 200 {
		next := StateRepairing
		if e.State == StateRepairing {
			next = StateInvalid
		}
		if err := e.moveTo(next, t0.Add(time.Duration(i)*time.Second), ""); err != nil {
			t.Fatal(err)
		}
	}
	if len(e.History) != maxHistory || e.History[0].State != StatePlanned {
		t.Fatalf("history: %d entries, first %s", len(e.History), e.History[0].State)
	}
}
