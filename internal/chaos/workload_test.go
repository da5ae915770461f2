package chaos

import (
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
)

func testConfig(seed uint64) Config {
	c := DefaultConfig
	c.Events, c.Subscriptions, c.Duration, c.Seed = 3000, 60, 30*time.Second, seed
	c.LateShare = 0.05
	return c.withDefaults()
}

func TestWorkloadIsReproducibleBySeed(t *testing.T) {
	cat, ps := testCatalog(t, 3, 60)
	start := time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC)
	a, b := newWorkload(testConfig(11), cat, ps, nil, start), newWorkload(testConfig(11), cat, ps, nil, start)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two workloads of the same seed differ")
	}
	c := newWorkload(testConfig(12), cat, ps, nil, start)
	if reflect.DeepEqual(a.Events, c.Events) {
		t.Fatal("workloads of different seeds are equal")
	}
}

// TestWorkloadShape checks what the run relies on: every event is valid when it is sent, none is timed
// before the start minus the backdate, duplicates and late events are there, and event times are unique.
func TestWorkloadShape(t *testing.T) {
	checkWorkloadShape(t, testConfig(5))
}

// TestLateMaxTimesLateEventsFurtherBack: with LateMax, late events are timed up to that long before they
// are sent (plus the jitter), beyond their period's close by more than the default's few seconds.
func TestLateMaxTimesLateEventsFurtherBack(t *testing.T) {
	cfg := testConfig(5)
	cfg.LateShare, cfg.LateMax = 0.4, 20*time.Second
	w, cat := checkWorkloadShape(t, cfg)
	firstSend := map[int]time.Duration{}
	for _, s := range w.Sends {
		if _, ok := firstSend[s.Event]; !ok {
			firstSend[s.Event] = s.At
		}
	}
	further, tooFar := 0, 0
	for i := range w.Events {
		e := &w.Events[i]
		p, _ := cat.Product(e.Data.Product)
		back := w.Start.Add(firstSend[i]).Sub(e.Time)
		if back > p.Period.Every+p.AllowedLateness+maxLateExtra+maxJitter {
			further++
		}
		if back > cfg.LateMax+maxJitter {
			tooFar++
		}
	}
	if further == 0 || tooFar > 0 {
		t.Errorf("%d of %d late events timed beyond the default lateness, %d beyond LateMax", further, w.Late, tooFar)
	}
}

// checkWorkloadShape generates cfg's workload and checks it; it returns the workload and its catalog.
func checkWorkloadShape(t *testing.T, cfg Config) (*Workload, *events.Catalog) {
	t.Helper()
	cat, ps := testCatalog(t, 3, 60)
	start := time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC)
	w := newWorkload(cfg, cat, ps, nil, start)
	if len(w.Events) != cfg.Events || len(w.Sends) != cfg.Events+w.Resent || w.Resent == 0 || w.Late == 0 {
		t.Fatalf("events %d, sends %d, resent %d, late %d", len(w.Events), len(w.Sends), w.Resent, w.Late)
	}
	if !slices.IsSortedFunc(w.Sends, func(a, b Send) int { return int(a.At - b.At) }) {
		t.Error("sends are not in time order")
	}
	firstSend := map[int]time.Duration{}
	for _, s := range w.Sends {
		if _, ok := firstSend[s.Event]; !ok {
			firstSend[s.Event] = s.At
		}
	}
	times, late := map[time.Time]bool{}, 0
	for i := range w.Events {
		e := &w.Events[i]
		sentAt := start.Add(firstSend[i])
		if rej := cat.Validate(e, sentAt); rej != nil {
			t.Fatalf("event %s is invalid when sent: %v", e.ID, rej)
		}
		if e.Time.Before(start.Add(-backdate(cfg))) {
			t.Fatalf("event %s is timed %v, before the start minus %v", e.ID, e.Time, backdate(cfg))
		}
		if times[e.Time] {
			t.Fatalf("event time %v is not unique", e.Time)
		}
		times[e.Time] = true
		p, _ := cat.Product(e.Data.Product)
		if !p.CloseAt(p.PeriodOf(e.Time)).After(sentAt) {
			late++
		}
	}
	if late < w.Late {
		t.Errorf("%d events are sent after their period closed, want at least the %d planned late", late, w.Late)
	}
	return w, cat
}

func TestCatalogsAgree(t *testing.T) {
	cat, ps := testCatalog(t, 4, 40)
	b, err := yaml.Marshal(connectCatalog(ps, 40))
	if err != nil {
		t.Fatal(err)
	}
	connect, err := connectemu.ParseCatalog(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Products) != 4 || len(connect.Products) != 4 || len(connect.Assets) != 40 {
		t.Fatalf("products %d / %d, assets %d", len(cat.Products), len(connect.Products), len(connect.Assets))
	}
	for i, p := range cat.Products {
		cp := connect.Products[i]
		if cp.ID != p.ID || cp.Schema != string(p.Schema) || len(cp.Items) != len(p.Items) {
			t.Errorf("product %s: connect has %+v", p.ID, cp)
		}
		for j, it := range p.Items {
			if cp.Items[j].MPN != it.MPN || cp.Items[j].Precision != it.Precision.String() {
				t.Errorf("item %s: connect has %+v", it.MPN, cp.Items[j])
			}
		}
	}
	for s, a := range connect.Assets {
		if p, _ := cat.Product(a.Product); p == nil || a.ID != subscription(s, 4) {
			t.Errorf("asset %d: %+v", s, a)
		}
	}
}

func TestFaultSpecsAreUnderstoodByTheEmulator(t *testing.T) {
	if faultSpecs(0) != nil {
		t.Error("a zero rate injects faults")
	}
	em := connectemu.New(connectemu.Options{})
	t.Cleanup(func() { _ = em.Close() })
	total := map[string]float64{}
	for _, spec := range faultSpecs(0.05) {
		route, list, ok := strings.Cut(spec, "=")
		faults, err := connectemu.ParseFaults(list)
		if !ok || err != nil {
			t.Fatalf("spec %q: %v", spec, err)
		}
		if err := em.SetFaults(route, faults...); err != nil {
			t.Fatal(err)
		}
		for _, f := range faults {
			total[route] += f.Probability
		}
	}
	if math.Abs(total["*"]-0.05*5/13) > 1e-4 {
		t.Errorf("every route: total probability %v, want 5/13 of 0.05", total["*"])
	}
	for _, route := range submitterRoutes {
		if got := total[route] + total["*"]; math.Abs(got-0.05) > 1e-4 {
			t.Errorf("%s: total probability %v, want 0.05", route, got)
		}
	}
	if total["records.list"] != 0 {
		t.Error("garbled answers on the records the harness reads")
	}
}

func TestReadFaultsTalliesTheEmulatorLog(t *testing.T) {
	path := t.TempDir() + "/emulator.log"
	log := `time=2026-11-25T17:47:49.621Z level=INFO msg="emulator fault" route=files.create fault=status
time=2026-11-25T17:47:50.506Z level=INFO msg="emulator request" route=files.get
time=2026-11-25T17:47:50.506Z level=INFO msg="emulator fault" route=files.get fault=commit-drop
time=2026-11-25T17:47:50.507Z level=INFO msg="emulator fault" route=files.get fault=429
`
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	want := "3 (429 1, commit-drop 1, status 1; on files.create 1, files.get 2)"
	if have := readFaults(path).String(); have != want {
		t.Errorf("want %q, have %q", want, have)
	}
}

// TestProductsDifferInShape: the run's products differ in period length, lateness, schema, aggregations
// and zone, and a zone does not move a fixed period off its epoch alignment (the run's start is aligned to
// defaultAlign for all of them).
func TestProductsDifferInShape(t *testing.T) {
	cat, ps := testCatalog(t, 3, 3)
	lengths, schemas, aggs, zones := map[time.Duration]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	start := time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC)
	for _, tp := range ps {
		p, _ := cat.Product(tp.id)
		lengths[p.Period.Every], schemas[string(p.Schema)], zones[p.Location.String()] = true, true, true
		for _, it := range p.Items {
			aggs[string(it.Aggregation)] = true
		}
		if pd := p.PeriodOf(start.Add(time.Second)); !pd.Start.Equal(start) || defaultAlign%p.Period.Every != 0 {
			t.Errorf("%s (zone %s): period %v of %v, want it to start at %v", p.ID, p.Location, pd, p.Period.Every, start)
		}
	}
	if len(lengths) != 3 || len(schemas) != 3 || len(aggs) != 6 || len(zones) != 2 || !zones["Asia/Kolkata"] {
		t.Errorf("lengths %v, schemas %v, aggregations %v, zones %v", lengths, schemas, aggs, zones)
	}
}

// TestDeadLetterWorld: with dead letters, a share of the events are for the held-back product, which the
// services' first catalog lacks (ingest rejects them as unknown_product) and the fixed one has; Connect knows
// the product and its assets, and lacks the missing assets until they are added.
func TestDeadLetterWorld(t *testing.T) {
	dir := t.TempDir()
	ps := runProducts(3, nil)
	h := heldProduct(ps[0])
	start, full, err := writeCatalogs(dir, ps, &h, 60)
	if err != nil {
		t.Fatal(err)
	}
	w := newWorkload(testConfig(9), full, ps, &h, time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC))
	if w.Held == 0 || w.Held > len(w.Events)/50 || w.HeldProduct != h.id {
		t.Fatalf("%d held events of %d (%q)", w.Held, len(w.Events), w.HeldProduct)
	}
	sent := w.Start.Add(time.Minute)
	for i := range w.Events {
		e := &w.Events[i]
		if e.Data.Product != h.id {
			continue
		}
		if rej := start.Validate(e, sent); rej == nil || rej.Reason != "unknown_product" {
			t.Fatalf("held event %s against the first catalog: %v", e.ID, rej)
		}
		if rej := full.Validate(e, sent); rej != nil {
			t.Fatalf("held event %s against the fixed catalog: %v", e.ID, rej)
		}
	}
	b, err := os.ReadFile(dir + "/" + connectCatalogFile)
	if err != nil {
		t.Fatal(err)
	}
	connect, err := connectemu.ParseCatalog(b)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, a := range connect.Assets {
		ids[a.ID] = true
	}
	for _, gone := range missing(ps) {
		if ids[gone] {
			t.Errorf("asset %s is in Connect's first catalog", gone)
		}
	}
	if !ids[heldSubscription(0)] || len(missingCatalogAssets(ps, 60)) != missingAssets {
		t.Errorf("held assets in Connect: %v; missing assets to add: %v", ids[heldSubscription(0)], missingCatalogAssets(ps, 60))
	}
}

// TestPeriodsReplaceTheTemplatesPeriods: --periods gives the products their periods and lateness, cycled,
// and the run's start is aligned to their common multiple, so every product's period starts there.
func TestPeriodsReplaceTheTemplatesPeriods(t *testing.T) {
	shapes, err := ParsePeriods("10s+2s, 15s+0s")
	if err != nil || len(shapes) != 2 || shapes[1] != (PeriodShape{Every: 15 * time.Second}) {
		t.Fatalf("parsed %v, %v", shapes, err)
	}
	ps := runProducts(3, shapes)
	_, cat, err := writeCatalogs(t.TempDir(), ps, nil, 3)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC).Truncate(alignOf(shapes))
	for i, want := range []PeriodShape{shapes[0], shapes[1], shapes[0]} {
		p, _ := cat.Product(ps[i].id)
		if p.Period.Every != want.Every || p.AllowedLateness != want.Lateness || p.Schema != templates[i].schema {
			t.Errorf("product %d: %v+%v %s, want %v and the template's schema", i, p.Period.Every, p.AllowedLateness, p.Schema, want)
		}
		if pd := p.PeriodOf(start.Add(time.Second)); !pd.Start.Equal(start) {
			t.Errorf("product %d: period %v, want it to start at the aligned start %v", i, pd, start)
		}
	}
	if alignOf(shapes) != 30*time.Second || alignOf(nil) != defaultAlign {
		t.Errorf("alignment %v (default %v)", alignOf(shapes), alignOf(nil))
	}
	for _, bad := range []string{"10s", "10s+x", "1500ms+0s", "10s+-1s"} {
		if s, err := ParsePeriods(bad); err == nil && checkPeriods(s) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
