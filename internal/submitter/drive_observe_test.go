package submitter

import (
	"testing"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// TestEveryNonTerminalStateHasAnOperation: the driver has a step for every state it does not leave. (That
// every non-terminal state can fail is the ledger's test.)
func TestEveryNonTerminalStateHasAnOperation(t *testing.T) {
	for _, s := range ledger.AllStates {
		if !s.Terminal() && operation(&ledger.Entry{State: s}) == string(s) {
			t.Errorf("non-terminal state %s has no operation", s)
		}
	}
}

func TestStateOfConnectStatus(t *testing.T) {
	tests := map[usageapi.FileStatus]ledger.State{
		usageapi.FileStatusDraft: ledger.StateCreated, usageapi.FileStatusUploading: ledger.StateUploaded,
		usageapi.FileStatusUploaded: ledger.StateUploaded, usageapi.FileStatusProcessing: ledger.StateUploaded,
		usageapi.FileStatusReady: ledger.StateReady, usageapi.FileStatusInvalid: ledger.StateInvalid,
		usageapi.FileStatusPending: ledger.StateSubmitted, usageapi.FileStatusAccepted: ledger.StateAccepted,
		usageapi.FileStatusClosed: ledger.StateClosed, usageapi.FileStatusRejected: ledger.StateRejected,
		usageapi.FileStatusDeleted: ledger.StateFailed, "processed": ledger.StateFailed,
	}
	for status, want := range tests {
		if got := stateOf(status); got != want {
			t.Errorf("status %s: got %s, want %s", status, got, want)
		}
	}
}
