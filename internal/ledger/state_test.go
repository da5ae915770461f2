package ledger

import (
	"testing"
	"time"
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

// TestEveryNonTerminalStateCanFail: terminal states lead nowhere, and every other state can record a
// permanent error. (That every non-terminal state has an operation is the submitter's test.)
func TestEveryNonTerminalStateCanFail(t *testing.T) {
	for _, s := range AllStates {
		if s.Terminal() {
			if len(transitions[s]) != 0 {
				t.Errorf("terminal state %s has transitions %v", s, transitions[s])
			}
			continue
		}
		if !s.CanBecome(StateFailed) {
			t.Errorf("%s cannot become failed: a permanent error could not be recorded", s)
		}
	}
	if len(AllStates) != len(transitions)+6 {
		t.Errorf("%d states, %d with transitions: a state is missing from AllStates or the table", len(AllStates), len(transitions))
	}
}

func TestParkedStates(t *testing.T) {
	for _, s := range AllStates {
		if want := s == StateRejected || s == StateFailed; s.Parked() != want {
			t.Errorf("%s: parked %v", s, s.Parked())
		}
		if s.Parked() && !s.Terminal() {
			t.Errorf("%s is parked but not terminal", s)
		}
	}
}

func TestMoveToRecordsHistoryAndRefusesBadMoves(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	e := &Entry{State: StatePlanned, History: []Transition{{State: StatePlanned, At: t0}}, Polls: 3}
	if err := e.MoveTo(StateCreated, t0.Add(time.Second), ""); err != nil {
		t.Fatal(err)
	}
	if err := e.MoveTo(StateCreated, t0.Add(2*time.Second), ""); err != nil {
		t.Fatal(err)
	}
	if len(e.History) != 2 || e.History[1].State != StateCreated || e.Polls != 0 {
		t.Fatalf("history %+v polls %d", e.History, e.Polls)
	}
	if err := e.MoveTo(StatePlanned, t0, ""); err == nil {
		t.Fatal("created → planned was allowed")
	}
	if len(e.moves) != 1 || e.moves[0].From != StatePlanned || e.moves[0].To != StateCreated || !e.moves[0].At.Equal(t0.Add(time.Second)) {
		t.Fatalf("moves %+v, want planned → created once", e.moves)
	}
	if m := e.TakeMoves(); len(m) != 1 || len(e.TakeMoves()) != 0 {
		t.Fatalf("TakeMoves gave %+v, then did not forget them", m)
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
		if err := e.MoveTo(next, t0.Add(time.Duration(i)*time.Second), ""); err != nil {
			t.Fatal(err)
		}
	}
	if len(e.History) != MaxHistory || e.History[0].State != StatePlanned {
		t.Fatalf("history: %d entries, first %s", len(e.History), e.History[0].State)
	}
}

// TestOperatorMoves: only parked entries move by an operator's hand, never back into the driver's path from
// an end the provider decided.
func TestOperatorMoves(t *testing.T) {
	for _, from := range AllStates {
		for _, to := range AllStates {
			want := from == StateRejected && (to == StateCreated || to == StateAbandoned) ||
				from == StateFailed && (to == StatePlanned || to == StateCreated || to == StateAbandoned)
			if from.OperatorCanMove(to) != want {
				t.Errorf("operator %s → %s: %v", from, to, !want)
			}
		}
	}
	if !StateAbandoned.Terminal() || StateAbandoned.Parked() || StateAbandoned.Billed() {
		t.Error("abandoned must be terminal, not parked, not billed")
	}
}
