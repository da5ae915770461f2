package submitter

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// deadLetters reads every submitter dead letter.
func (env *testEnv) deadLetters() []events.DeadLetter {
	env.t.Helper()
	var out []events.DeadLetter
	err := env.conn.Read(context.Background(), bus.StreamDLQ, bus.ReadOptions{Filters: []string{subjects.StageDeadLetters(deadLetterStage)}}, func(m bus.Msg) error {
		var dl events.DeadLetter
		if err := json.Unmarshal(m.Data, &dl); err != nil {
			return err
		}
		if !strings.HasSuffix(m.Subject, "."+string(dl.Reason)) {
			env.t.Errorf("dead letter with reason %s on %s", dl.Reason, m.Subject)
		}
		out = append(out, dl)
		return nil
	})
	if err != nil {
		env.t.Fatal(err)
	}
	return out
}

func TestInvalidRecordsAreDeadLetteredAndTheRestResubmitted(t *testing.T) {
	testInvalidRecords(t, func(env *testEnv) Bus { return env.conn })
}

// TestExclusionsAreInTheLedgerBeforeTheirDeadLetters injects a crash at each point of dead-lettering:
// after the exclusion is recorded but before anything is published, and after publishing but before the
// exclusion is marked done. Every dead letter must be published while the ledger records its record as
// being excluded, and each record must be dead-lettered once.
func TestExclusionsAreInTheLedgerBeforeTheirDeadLetters(t *testing.T) {
	var faulty *dlqFaults
	testInvalidRecords(t, func(env *testEnv) Bus {
		faulty = &dlqFaults{Conn: env.conn, ledger: env.ledger, script: []string{"before", "after", "after", "after"}}
		return faulty
	})
	if len(faulty.script) > 0 || len(faulty.unrecorded) > 0 {
		t.Errorf("faults left unused %v; dead letters published without their exclusion in the ledger: %v",
			faulty.script, faulty.unrecorded)
	}
}

// dlqFaults is the test's JetStream for a submitter whose publishes fail as scripted: "before" fails
// without publishing, "after" publishes and then fails (as a crash, or a lost ack, would). Before each
// publish it checks that the ledger records every dead letter's record as being excluded.
type dlqFaults struct {
	*bus.Conn
	ledger     *ledger.Store
	mu         sync.Mutex
	script     []string
	unrecorded []string
}

func (b *dlqFaults) PublishBatch(ctx context.Context, msgs []bus.Msg) ([]bus.PubAck, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range msgs {
		key, id := m.Header.Get(headerFileKey), m.Header.Get(headerRecordID)
		if e, _, err := b.ledger.Get(ctx, key); err != nil || e.Excluding == nil || e.Excluding.Records[id] == "" {
			b.unrecorded = append(b.unrecorded, key+" "+id)
		}
	}
	step := ""
	if len(b.script) > 0 {
		step, b.script = b.script[0], b.script[1:]
	}
	if step == "before" {
		return nil, errors.New("injected: stopped before publishing")
	}
	acks, err := b.Conn.PublishBatch(ctx, msgs)
	if err == nil && step == "after" {
		return nil, errors.New("injected: stopped after publishing")
	}
	return acks, err
}

// testInvalidRecords runs a period with an unwritable record and a subscription Connect does not know on a
// submitter using the Bus busOf returns, and checks every record is accepted or dead-lettered once.
func testInvalidRecords(t *testing.T, busOf func(*testEnv) Bus) {
	env := newTestEnv(t, autoAccept)
	subs := subscriptions("0005", 5)
	env.seedAssets(subs...)
	unknown := "AS-0005-UNKNOWN" // Connect has no such asset: its rows are invalid
	pd := period(1)
	var all []events.PeriodRecord
	for i, sub := range append(slices.Clone(subs), unknown) {
		for _, item := range testItems {
			all = append(all, closedRecord(pd, sub, item, i))
		}
	}
	all[2].Quantity = events.MustDecimal("7.5") // API_CALLS is an integer item: no workbook can hold this
	env.startOn(busOf(env), env.options())
	env.agg.close(t, pd, all)

	id := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Part: 1}
	e := env.waitState(id, 30*time.Second, ledger.StateAccepted)
	if len(e.Excluded) != 4 || e.Uploads != 2 {
		t.Errorf("excluded %d records, %d uploads; want 4 and 2", len(e.Excluded), e.Uploads)
	}
	want := []ledger.State{ledger.StatePlanned, ledger.StateCreated, ledger.StateRepairing, ledger.StateUploaded, ledger.StateInvalid, ledger.StateRepairing,
		ledger.StateUploaded, ledger.StateReady, ledger.StateSubmitted, ledger.StateAccepted}
	if got := states(e); !slices.Equal(got, want) {
		t.Errorf("history %v\nwant    %v", got, want)
	}
	if got := len(env.emu.Records(e.FileID)); got != len(all)-4 {
		t.Errorf("%d records accepted, want %d", got, len(all)-4)
	}
	if n := len(liveFiles(env)); n != 1 {
		t.Errorf("%d files, want 1", n)
	}
	checkDeadLetters(t, env.deadLetters(), all, unknown)
}

// checkDeadLetters wants one unwritable dead letter (all[2]) and one Connect-invalid one per item of the
// unknown subscription, each carrying the original record and the reason's text.
func checkDeadLetters(t *testing.T, dls []events.DeadLetter, all []events.PeriodRecord, unknown string) {
	t.Helper()
	byReason := map[events.Reason][]events.PeriodRecord{}
	for _, dl := range dls {
		var r events.PeriodRecord
		if err := json.Unmarshal(dl.OriginalPayload(), &r); err != nil {
			t.Fatalf("dead letter payload: %v", err)
		}
		byReason[dl.Reason] = append(byReason[dl.Reason], r)
		if dl.Stage != "submitter" || dl.Seq == 0 || !isRecordsSubject(dl.Subject) {
			t.Errorf("dead letter %+v", dl)
		}
		if dl.Reason == reasonConnectInvalid && !strings.Contains(dl.Message, "asset not found") {
			t.Errorf("dead letter without Connect's error text: %q", dl.Message)
		}
	}
	if got := byReason[reasonUnwritable]; len(got) != 1 || got[0].RecordID() != all[2].RecordID() || !got[0].Quantity.Equal(all[2].Quantity) {
		t.Errorf("unwritable dead letters: %+v", got)
	}
	invalid := byReason[reasonConnectInvalid]
	if len(invalid) != len(testItems) {
		t.Fatalf("%d Connect-invalid dead letters, want %d", len(invalid), len(testItems))
	}
	for _, r := range invalid {
		if r.Subscription != unknown {
			t.Errorf("dead-lettered a record of %s", r.Subscription)
		}
	}
}

func TestPermanentRefusalParksTheFileWithItsReason(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	subs := subscriptions("0010", 2)
	env.seedAssets(subs...)
	env.start(env.options())
	pd := period(1)
	var bad []events.PeriodRecord
	for i, sub := range subs {
		r := closedRecord(pd, sub, "CPU_HOURS", i)
		r.Contract = "CRD-99999-99999-99999" // Connect does not know this contract: every create is refused
		bad = append(bad, r)
	}
	env.agg.close(t, pd, bad)
	good := env.closePeriod(period(2), subs)

	id := ledger.FileID{Product: testProduct, Contract: "CRD-99999-99999-99999", PeriodStart: pd.Start, Part: 1}
	e := env.waitState(id, 30*time.Second, ledger.StateFailed)
	if e.Attempts != permanentConfirmations || !strings.Contains(e.Reason, "Contract CRD-99999-99999-99999 does not exist") {
		t.Errorf("failed after %d attempts, reason %q", e.Attempts, e.Reason)
	}
	next := env.waitState(ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: period(2).Start, Part: 1}, 30*time.Second, ledger.StateAccepted)
	sameTotals(t, connectTotals(env, next.FileID), truth(good))
}

// isRecordsSubject reports whether subject is one of the aggregator's closed-records subjects.
func isRecordsSubject(subject string) bool {
	ps, err := subjects.ParsePeriod(subject)
	return err == nil && ps.Output == subjects.Records
}
