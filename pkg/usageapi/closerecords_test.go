package usageapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestCloseRecordsResultWithoutStatus: the spec's 206 items require no field and its status enum has no
// value for a record the server does not know. Such an item (no status) is a failed close, not a malformed
// answer, and the result type writes no empty status (the emulator answers with it).
func TestCloseRecordsResultWithoutStatus(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, http.StatusPartialContent, []map[string]any{{"id": "UR-1", "status": "closed"},
			{"id": "UR-404", "error_codes": "NTF_001", "error_details": "Usage record UR-404 not found."}})
	})
	c, _ := s.client(t)
	res, err := c.CloseRecords(ctxT(t), []CloseRecordRequest{{ID: "UR-1", ExternalBillingID: "B"}, {ID: "UR-404", ExternalBillingID: "B"}})
	if err != nil || len(res) != 2 {
		t.Fatalf("close-records: %+v, %v", res, err)
	}
	if res[0].Failed() || !res[1].Failed() || res[1].Status != "" {
		t.Fatalf("results %+v: want the first closed, the unknown record failed without status", res)
	}
	b, err := json.Marshal(res[1])
	if err != nil || strings.Contains(string(b), `"status"`) {
		t.Fatalf("an unknown record's result encodes as %s (%v): want no status", b, err)
	}
}
