package submitter

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// autoAccept is a provider that accepts every submitted file at once.
var autoAccept = connectemu.ProviderPolicy{Auto: true}

// liveFiles returns the emulator's files that are not deleted, by external id.
func liveFiles(env *testEnv) map[string][]usageapi.FileDetail {
	out := map[string][]usageapi.FileDetail{}
	for _, f := range env.emu.Files() {
		if f.Status != usageapi.FileStatusDeleted {
			out[f.ExternalID] = append(out[f.ExternalID], f)
		}
	}
	return out
}

// connectTotals sums the usage of a Connect file's records per asset and item MPN.
func connectTotals(env *testEnv, fileIDs ...string) map[string]events.Decimal {
	sums := map[string]events.Decimal{}
	for _, id := range fileIDs {
		for _, r := range env.emu.Records(id) {
			k := r.Asset.ID + "/" + r.Item.MPN
			sums[k] = sums[k].Add(events.MustDecimal(r.Usage.String()))
		}
	}
	return sums
}

// truth sums reported quantities per subscription and item.
func truth(records ...[]events.PeriodRecord) map[string]events.Decimal {
	sums := map[string]events.Decimal{}
	for _, rs := range records {
		for i := range rs {
			k := rs[i].Subscription + "/" + rs[i].Item
			sums[k] = sums[k].Add(reported(&rs[i]))
		}
	}
	return sums
}

func sameTotals(t *testing.T, got, want map[string]events.Decimal) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d asset×item totals in Connect, want %d", len(got), len(want))
	}
	for k, w := range want {
		if g := got[k]; !g.Equal(w) {
			t.Errorf("%s: Connect total %s, want %s", k, g, w)
		}
	}
}

func states(e *ledger.Entry) []ledger.State {
	var out []ledger.State
	for _, h := range e.History {
		out = append(out, h.State)
	}
	return out
}

func TestPeriodBecomesOneAcceptedFile(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	subs := subscriptions("0001", 12)
	env.seedAssets(subs...)
	env.start(env.options())

	env.agg.close(t, period(0), nil) // a period without usage: marks only
	records := env.closePeriod(period(1), subs)
	id := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: period(1).Start, Part: 1}
	e := env.waitState(id, 30*time.Second, ledger.StateAccepted)

	files := liveFiles(env)
	if len(files) != 1 || len(files[id.ExternalID()]) != 1 {
		t.Fatalf("want exactly one file, external id %s; have %v", id.ExternalID(), files)
	}
	f := files[id.ExternalID()][0]
	if f.Status != usageapi.FileStatusAccepted || f.ID != e.FileID || f.Currency != "USD" ||
		f.Period.From.String() != "2026-11-02" || f.Period.To.String() != "2026-11-02" || f.Name == "" {
		t.Errorf("file %+v", f.File)
	}
	if got := len(env.emu.Records(f.ID)); got != len(subs)*len(testItems) {
		t.Errorf("%d records in Connect, want %d", got, len(subs)*len(testItems))
	}
	sameTotals(t, connectTotals(env, f.ID), truth(records))
	want := []ledger.State{ledger.StatePlanned, ledger.StateCreated, ledger.StateUploaded, ledger.StateReady, ledger.StateSubmitted, ledger.StateAccepted}
	if got := states(e); !slices.Equal(got, want) {
		t.Errorf("history %v, want %v", got, want)
	}
	if e.Records != len(records) || e.Parts != 1 || e.Uploads != 1 || e.ClosedAt.IsZero() || e.Owner != "" {
		t.Errorf("entry %+v", e)
	}
	if empty := env.entry(ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: period(0).Start, Part: 1}); empty != nil {
		t.Errorf("a period without records got a file: %+v", empty)
	}
}

func TestLargePeriodIsSplitIntoParts(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	subs := subscriptions("0002", 9) // 27 records
	env.seedAssets(subs...)
	o := env.options()
	o.MaxRecordsPerFile = 10
	env.start(o)
	records := env.closePeriod(period(1), subs)

	var fileIDs []string
	for part := 1; part <= 3; part++ {
		id := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: period(1).Start, Part: part}
		e := env.waitState(id, 30*time.Second, ledger.StateAccepted)
		if e.Parts != 3 || e.Records != []int{10, 10, 7}[part-1] || e.Name != fmt.Sprintf("Metered Cloud 2026-11-02–2026-11-02 part %d/3", part) {
			t.Errorf("part %d: %d of %d parts, %d records, name %q", part, e.Part, e.Parts, e.Records, e.Name)
		}
		fileIDs = append(fileIDs, e.FileID)
	}
	if n := len(liveFiles(env)); n != 3 {
		t.Errorf("%d files, want 3", n)
	}
	sameTotals(t, connectTotals(env, fileIDs...), truth(records))
}

func TestRejectedFileDoesNotBlockTheNextPeriod(t *testing.T) {
	env := newTestEnv(t, connectemu.ProviderPolicy{}) // a manual provider
	subs := subscriptions("0003", 3)
	env.seedAssets(subs...)
	env.start(env.options())

	first := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: period(1).Start, Part: 1}
	env.closePeriod(period(1), subs)
	e := env.waitState(first, 30*time.Second, ledger.StateSubmitted)
	if err := env.emu.Reject(e.FileID, "quantities look wrong"); err != nil {
		t.Fatal(err)
	}
	rejected := env.waitState(first, 30*time.Second, ledger.StateRejected)
	if rejected.Note != "quantities look wrong" {
		t.Errorf("rejection note %q", rejected.Note)
	}

	stuck := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: period(2).Start, Part: 1}
	env.closePeriod(period(2), subs) // stays pending: the provider never decides
	next := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: period(3).Start, Part: 1}
	env.closePeriod(period(3), subs)
	e = env.waitState(next, 30*time.Second, ledger.StateSubmitted)
	env.waitState(stuck, 30*time.Second, ledger.StateSubmitted)
	if err := env.emu.Accept(e.FileID, "fine"); err != nil {
		t.Fatal(err)
	}
	env.waitState(next, 30*time.Second, ledger.StateAccepted)
	if got := env.entry(first); got.State != ledger.StateRejected {
		t.Errorf("the rejected file moved on: %s", got.State)
	}
	if got := env.entry(stuck); got.State != ledger.StateSubmitted {
		t.Errorf("the pending file is %s", got.State)
	}
}

func TestAdjustmentsProduceSupplementaryFiles(t *testing.T) {
	env := newTestEnv(t, autoAccept)
	subs := subscriptions("0004", 4)
	late := "AS-0004-LATE"
	env.seedAssets(append(subs, late)...)
	env.start(env.options())
	pd := period(1)
	base := env.closePeriod(pd, subs)
	baseID := ledger.FileID{Product: testProduct, Contract: testContract, PeriodStart: pd.Start, Part: 1}
	baseEntry := env.waitState(baseID, 30*time.Second, ledger.StateAccepted)

	adj := func(sub, item string, rev int, mode events.ValueMode, qty string, prev *events.Decimal) events.PeriodRecord {
		return events.PeriodRecord{Kind: events.RecordAdjustment, Product: testProduct, Contract: testContract,
			Subscription: sub, Item: item, PeriodStart: pd.Start, PeriodEnd: pd.End, Revision: rev, Mode: mode,
			Aggregation: aggregationOf(item), Quantity: events.MustDecimal(qty), Previous: prev, Events: 1,
			Partition: events.Partition(sub, testPartitions)}
	}
	prev := base[1].Quantity // STORAGE_GB of subs[0]
	first := []events.PeriodRecord{
		adj(subs[0], "CPU_HOURS", 1, events.ModeDelta, "2.5", nil),
		adj(subs[0], "STORAGE_GB", 1, events.ModeReplace, "99.25", &prev),
		adj(late, "API_CALLS", 1, events.ModeDelta, "4", nil),                                           // a key whose first events came late
		adj(subs[1], "STORAGE_GB", 1, events.ModeReplace, base[4].Quantity.String(), &base[4].Quantity), // no change
	}
	env.agg.adjust(t, first)
	newPrev := events.MustDecimal("99.25")
	second := []events.PeriodRecord{
		adj(subs[0], "STORAGE_GB", 2, events.ModeReplace, "120", &newPrev),
		adj(subs[2], "CPU_HOURS", 1, events.ModeDelta, "-1.1234", nil),
	}
	env.agg.adjust(t, second)

	// Each partition commits on its own, so the adjustments may make one supplement or several.
	supps := env.waitSupplements(pd, 30*time.Second)
	fileIDs, records, from := []string{baseEntry.FileID}, 0, uint64(0)
	for i, e := range supps {
		if e.State == ledger.StateAccepted { // an empty one (only no-ops) has no file
			fileIDs = append(fileIDs, e.FileID)
		}
		records += e.Records
		if e.Revision != i+1 || e.FromSeq != from || e.ExternalID != e.ID().ExternalID() {
			t.Errorf("supplement %d: revision %d, messages (%d, %d], external id %s", i+1, e.Revision, e.FromSeq, e.ToSeq, e.ExternalID)
		}
		from = e.ToSeq
	}
	if records != 5 {
		t.Errorf("supplements hold %d records, want 5 (the no-op left out)", records)
	}
	sameTotals(t, connectTotals(env, fileIDs...), truth(base, first, second))
	if got := len(env.emu.Records(baseEntry.FileID)); got != len(base) {
		t.Errorf("the reported file changed: %d records, want %d", got, len(base))
	}
	if n := len(liveFiles(env)); n != len(fileIDs) {
		t.Errorf("%d files, want the closed one and %d supplements", n, len(fileIDs)-1)
	}
}
