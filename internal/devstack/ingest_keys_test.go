package devstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/devstack"
	"github.com/usagepipe/usagepipe/internal/ingest"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// Without API keys dev serves ingest on loopback only: on any other address it refuses to start.
func TestIngestWithoutKeysIsRefusedOutsideLoopback(t *testing.T) {
	o := testOptions(t, t.TempDir())
	o.IngestAddr = "0.0.0.0:0"
	st, err := devstack.Start(context.Background(), o)
	if err == nil {
		_ = st.Stop()
		t.Fatal("a stack with ingest open on every interface and no key started")
	}
	if !strings.Contains(err.Error(), "not a loopback address") || !strings.Contains(err.Error(), "--ingest-api-keys") {
		t.Errorf("the refusal does not say why and what to do: %v", err)
	}
}

// A key cannot claim another producer's event, end to end: key B sends, first, an event with key A's
// source and id and another quantity; it is rejected (forbidden_source) and stored nowhere, so A's own
// event with that source and id is then accepted, and the file Connect accepts bills A's quantity once.
func TestAKeyCannotClaimAnotherProducersEvent(t *testing.T) {
	o := testOptions(t, t.TempDir())
	o.IngestAPIKeys = []ingest.APIKey{{Key: "key-a", Sources: []string{"/curl"}}, {Key: "key-b", Sources: []string{"/meters/b/"}}}
	st := start(t, o)
	real := st.Catalogs().ExampleEvent("claimed-1", time.Now())
	forged := real
	forged.Data.Quantity = events.MustDecimal("1000")

	code, answer := send(t, st, forged, "key-b")
	if code != http.StatusBadRequest || len(answer.Results) != 1 || answer.Results[0].Reason != events.ReasonForbiddenSource {
		t.Fatalf("key B writing key A's source: want 400 forbidden_source, have %d %+v", code, answer)
	}
	if code, _ := send(t, st, real, ""); code != http.StatusUnauthorized {
		t.Fatalf("no key: want 401, have %d", code)
	}
	post(t, st, real, http.Header{"Authorization": {"Bearer key-a"}}) // accepted, not duplicate

	waitFor(t, "the accepted file", 60*time.Second, func() bool { return len(acceptedFiles(st, real.Data.Product)) == 1 })
	recs := st.Emulator().Records(acceptedFiles(st, real.Data.Product)[0].ID)
	if len(recs) != 1 {
		t.Fatalf("want 1 record, have %+v", recs)
	}
	want, have := real.Data.Quantity, events.MustDecimal(string(recs[0].Usage))
	if want.Cmp(have) != 0 {
		t.Errorf("billed usage %s, want key A's %s once", have, want)
	}
}

// send posts e with the bearer key (none when empty) and returns the status and the per-event answer.
func send(t *testing.T, st *devstack.Stack, e events.Event, key string) (int, events.IngestResponse) {
	t.Helper()
	body, _ := json.Marshal(e)
	req, _ := http.NewRequest(http.MethodPost, st.URLs().Ingest+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/cloudevents+json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /v1/events: %v", err)
	}
	defer resp.Body.Close()
	var answer events.IngestResponse
	_ = json.NewDecoder(resp.Body).Decode(&answer) // errors (401) have no results
	return resp.StatusCode, answer
}

// Dev's JetStream server takes no credentials, so it is never opened beyond loopback; the emulator is, only
// with a Connect key other than the public dev key. Each refusal says which flag and why, before anything is
// started or written.
func TestWhatTakesNoKeyIsRefusedOutsideLoopback(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(*devstack.Options)
		says []string
	}{
		{"nats", func(o *devstack.Options) { o.NATSAddr = "0.0.0.0:0" }, []string{"--nats-addr 0.0.0.0:0", "takes no credentials"}},
		{"nats by IPv6", func(o *devstack.Options) { o.NATSAddr = "[::]:0" }, []string{"--nats-addr [::]:0"}},
		{"nats by name", func(o *devstack.Options) { o.NATSAddr = "example.test:0" }, []string{"--nats-addr example.test:0"}},
		{"emulator with the dev key", func(o *devstack.Options) { o.EmulatorAddr = "0.0.0.0:0" },
			[]string{"--emulator-addr 0.0.0.0:0", "public dev key", "--connect-api-key"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			o := testOptions(t, dir)
			tt.edit(&o)
			st, err := devstack.Start(context.Background(), o)
			if err == nil {
				_ = st.Stop()
				t.Fatal("the stack started")
			}
			for _, want := range tt.says {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the refusal %q does not say %q", err, want)
				}
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("the refused stack wrote %d entries into its data directory", len(entries))
			}
		})
	}
	o := testOptions(t, t.TempDir())
	o.EmulatorAddr, o.ConnectAPIKey = "0.0.0.0:0", "SU-123-456-789:a-key-of-my-own"
	o.NATSAddr = "localhost:0"
	start(t, o) // the emulator on every interface with a key of the user's own, NATS on localhost
}
