// Package submitter is `usagepipe bench submitter`: period close → usage file submitted, through a running
// submitter and the Connect emulator on loopback, on one embedded JetStream (see [Run]).
//
// # Concurrency
//
// Run is called once at a time; the submitter under test runs on its own goroutines until Run ends it.
package submitter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/usagepipe/usagepipe/internal/benchmark/harness"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/ledger"
	service "github.com/usagepipe/usagepipe/internal/submitter"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// Run measures period close → usage file submitted: for each of --periods periods it commits the
// closed records of --subscriptions subscriptions × --items items to USAGE_AGG as the aggregator does (one
// atomic batch per partition: progress, records, mark), and waits until the submitter's ledger shows the
// file submitted. The latency is the ledger's submitted time minus the period's close (the stream time of
// its last mark). Connect is the emulator on loopback with no processing delay. The last line is the
// RESULT line.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	p, err := parseSubmitterBench(args, getenv, stdout)
	if err != nil {
		return err
	}
	env, err := startSubmitterBench(ctx, p)
	if err != nil {
		return err
	}
	defer env.close()
	stopProfile, err := harness.StartProfile(p.cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	var lat []time.Duration
	for n := range p.periods {
		cpu := harness.ProcessCPU()
		d, err := env.period(ctx, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "period %d: %d records, close → submitted %d ms (process CPU %d ms, the emulator's included)\n",
			n+1, env.records, d.Milliseconds(), (harness.ProcessCPU() - cpu).Milliseconds())
		lat = append(lat, d)
	}
	fmt.Fprintln(stdout, env.phases())
	slices.Sort(lat)
	p50, p99 := harness.Percentile(lat, 50), harness.Percentile(lat, 99)
	fmt.Fprintf(stdout, "submitter: %d periods of %d subscriptions × %d items: close → submitted p50 %d ms, p99 %d ms\n",
		p.periods, p.subscriptions, p.items, p50.Milliseconds(), p99.Milliseconds())
	fmt.Fprintf(stdout, "RESULT submit_p50_ms=%d submit_p99_ms=%d records=%d\n", p50.Milliseconds(), p99.Milliseconds(), env.records)
	return nil
}

// submitterBenchParams are the bench's flags.
type submitterBenchParams struct {
	subscriptions, items, periods, partitions, maxRecords, concurrency int
	cpuProfile                                                         string
}

func parseSubmitterBench(args []string, getenv func(string) string, stdout io.Writer) (submitterBenchParams, error) {
	var p submitterBenchParams
	f := config.NewFlagSet("bench submitter", getenv)
	f.SetOutput(stdout)
	f.IntVar(&p.subscriptions, "subscriptions", 10_000, "subscriptions with usage in each period")
	f.IntVar(&p.items, "items", 1, "items per subscription (1..3)")
	f.IntVar(&p.periods, "periods", 10, "periods closed one after the other (latency samples)")
	f.IntVar(&p.partitions, "partitions", 16, "aggregator partitions")
	f.IntVar(&p.maxRecords, "max-records-per-file", service.DefaultMaxRecordsPerFile, "submitter record limit per file")
	f.IntVar(&p.concurrency, "concurrency", service.DefaultConcurrency, "submitter concurrency")
	f.StringVar(&p.cpuProfile, "cpuprofile", "", "write a CPU profile of the measured periods to this file")
	if err := f.Parse(args); err != nil {
		return p, err
	}
	if p.subscriptions < 1 || p.items < 1 || p.items > len(sbItems) || p.periods < 1 || p.partitions < 1 {
		return p, errors.New("bench submitter: --subscriptions, --periods, --partitions ≥ 1 and --items 1..3")
	}
	return p, nil
}

// sbItems are the emulator sample product's items with a quantity format fitting their precision.
var sbItems = []struct{ mpn, qty string }{{"CPU_HOURS", "%d.1234"}, {"STORAGE_GB", "%d.25"}, {"API_CALLS", "%d"}}

const (
	sbProduct  = "PRD-000-000-001"
	sbContract = "CRD-00000-00000-00001"
	sbAPIKey   = "SU-000-000-000:bench"
	// sbMsgBytes packs record lines into messages as the aggregator does (at most 256 KiB each).
	sbMsgBytes = 256 << 10
)

const sbCatalog = `products:
  - id: PRD-000-000-001
    name: Metered Cloud
    schema: QT
    currency: USD
    contracts: [CRD-00000-00000-00001]
    period: {kind: daily}
    items:
      - {mpn: CPU_HOURS, name: CPU hours, unit: hour, precision: decimal(4), aggregation: sum}
      - {mpn: STORAGE_GB, name: Storage, unit: GB, precision: decimal(2), aggregation: max}
      - {mpn: API_CALLS, name: API calls, unit: call, precision: integer, aggregation: count}
`

// submitterBenchEnv is an embedded JetStream, the emulator on loopback and a running submitter.
type submitterBenchEnv struct {
	p       submitterBenchParams
	js      *harness.JetStream
	conn    *bus.Conn
	ledger  *ledger.Store
	emu     *connectemu.Emulator
	http    *http.Server
	stop    context.CancelFunc
	done    chan error
	fences  map[int]uint64
	records int
	offsets map[ledger.State][]time.Duration // per state: when entered, after the close
}

func startSubmitterBench(ctx context.Context, p submitterBenchParams) (*submitterBenchEnv, error) {
	env := &submitterBenchEnv{p: p, fences: map[int]uint64{}, records: p.subscriptions * p.items,
		offsets: map[ledger.State][]time.Duration{}}
	err := env.startNATS(ctx)
	if err == nil {
		err = env.startEmulator()
	}
	if err == nil {
		err = env.startSubmitter(ctx)
	}
	if err != nil {
		env.close()
		return nil, fmt.Errorf("bench submitter: %w", err)
	}
	return env, nil
}

func (env *submitterBenchEnv) startNATS(ctx context.Context) error {
	var err error
	if env.js, err = harness.StartJetStream(ctx, "bench-submitter", env.p.partitions); err != nil {
		return err
	}
	env.conn = env.js.Conn
	env.ledger, err = ledger.Open(ctx, env.conn)
	return err
}

// startEmulator serves the emulator (no processing delay, a manual provider) with one asset per subscription.
func (env *submitterBenchEnv) startEmulator() error {
	env.emu = connectemu.New(connectemu.Options{APIKeys: []string{sbAPIKey}})
	assets := make([]connectemu.CatalogAsset, env.p.subscriptions)
	for i := range assets {
		assets[i] = connectemu.CatalogAsset{ID: sbSubscription(i), Product: sbProduct}
	}
	if err := env.emu.Seed(&connectemu.Catalog{Assets: assets}); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	env.http = &http.Server{Handler: env.emu.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = env.http.Serve(ln) }()
	env.http.Addr = ln.Addr().String()
	return nil
}

func (env *submitterBenchEnv) startSubmitter(ctx context.Context) error {
	cat, err := events.ParseCatalog([]byte(sbCatalog))
	if err != nil {
		return err
	}
	s, err := service.New(env.conn, service.Options{Catalog: cat, ConnectURL: "http://" + env.http.Addr + "/public/v1",
		ConnectAPIKey: sbAPIKey, MaxRecordsPerFile: env.p.maxRecords, Concurrency: env.p.concurrency,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	ctx, env.stop = context.WithCancel(ctx)
	env.done = make(chan error, 1)
	go func() { env.done <- s.Run(ctx) }()
	return nil
}

func (env *submitterBenchEnv) close() {
	if env.stop != nil {
		env.stop()
		<-env.done
	}
	if env.http != nil {
		_ = env.http.Close()
	}
	if env.emu != nil {
		_ = env.emu.Close()
	}
	if env.js != nil {
		env.js.Close()
	}
}

func sbSubscription(i int) string { return fmt.Sprintf("AS-BNCH-%06d", i+1) }

// sbPeriod is day n of the bench.
func sbPeriod(n int) events.Period {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n)
	return events.Period{Start: start, End: start.AddDate(0, 0, 1)}
}

// period closes period n (records, then marks, per partition) and returns close → submitted.
func (env *submitterBenchEnv) period(ctx context.Context, n int) (time.Duration, error) {
	pd := sbPeriod(n)
	byPart := env.closedRecords(pd)
	for p := range env.p.partitions {
		if err := env.commit(ctx, p, pd, byPart[p]); err != nil {
			return 0, fmt.Errorf("bench submitter: commit partition %d: %w", p, err)
		}
	}
	return env.waitSubmitted(ctx, pd)
}

// closedRecords are every subscription × item of pd, as JSON lines, by partition.
func (env *submitterBenchEnv) closedRecords(pd events.Period) map[int][][]byte {
	out := map[int][][]byte{}
	for i := range env.p.subscriptions {
		sub := sbSubscription(i)
		p := events.Partition(sub, env.p.partitions)
		for _, it := range sbItems[:env.p.items] {
			r := events.PeriodRecord{Kind: events.RecordClosed, Product: sbProduct, Contract: sbContract, Subscription: sub,
				Item: it.mpn, PeriodStart: pd.Start, PeriodEnd: pd.End, Mode: events.ModeTotal, Aggregation: events.AggregationSum,
				Quantity: events.MustDecimal(fmt.Sprintf(it.qty, 1+i%1000)), Events: 1, Partition: p}
			b, _ := json.Marshal(r)
			out[p] = append(out[p], b)
		}
	}
	return out
}

// commit writes one partition's records of pd and its mark in one atomic batch fenced on its progress.
func (env *submitterBenchEnv) commit(ctx context.Context, p int, pd events.Period, lines [][]byte) error {
	prog, _ := json.Marshal(map[string]any{"partition": p, "part": 1, "parts": 1})
	batch := []bus.Msg{sbMsg(subjects.Progress(p), events.KindProgress, prog)}
	subject := func(o subjects.Output) string { return o.Subject(sbProduct, sbContract, pd.Start, p) }
	var data []byte
	for _, l := range lines {
		if len(data)+len(l)+1 > sbMsgBytes {
			batch, data = append(batch, sbMsg(subject(subjects.Records), events.KindRecords, data)), nil
		}
		data = append(append(data, l...), '\n')
	}
	if len(data) > 0 {
		batch = append(batch, sbMsg(subject(subjects.Records), events.KindRecords, data))
	}
	mark, _ := json.Marshal(events.PartitionMark{Product: sbProduct, Contract: sbContract, PeriodStart: pd.Start,
		PeriodEnd: pd.End, Partition: p, Partitions: env.p.partitions, Records: len(lines)})
	batch = append(batch, sbMsg(subject(subjects.Marks), events.KindMark, mark))
	last, err := env.conn.CommitAtomic(ctx, batch, env.fences[p])
	if err != nil {
		return err
	}
	env.fences[p] = last - uint64(len(batch)-1)
	return nil
}

func sbMsg(subject, kind string, data []byte) bus.Msg {
	return bus.Msg{Subject: subject, Header: bus.Header{events.HeaderKind: []string{kind}}, Data: data}
}

// waitSubmitted polls the ledger until every part of pd's file is submitted and returns the latest part's
// submitted time minus the period's close.
func (env *submitterBenchEnv) waitSubmitted(ctx context.Context, pd events.Period) (time.Duration, error) {
	first := ledger.FileID{Product: sbProduct, Contract: sbContract, PeriodStart: pd.Start, Part: 1}
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if d, ok, err := env.submitted(ctx, first); err != nil || ok {
			return d, err
		}
		time.Sleep(5 * time.Millisecond)
	}
	return 0, fmt.Errorf("bench submitter: period %s not submitted in time", pd.Key())
}

// submitted reads every part's ledger entry: ok once all are past submission.
func (env *submitterBenchEnv) submitted(ctx context.Context, id ledger.FileID) (time.Duration, bool, error) {
	var latest time.Duration
	for part, parts := 1, 1; part <= parts; part++ {
		id.Part = part
		e, _, err := env.ledger.Get(ctx, id.Key())
		if errors.Is(err, bus.ErrNotFound) {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, err
		}
		if e.State == ledger.StateFailed || e.State == ledger.StateEmpty {
			return 0, false, fmt.Errorf("bench submitter: %s is %s: %s", e.Key, e.State, e.Reason)
		}
		at, ok := sbSubmittedAt(e)
		if !ok {
			return 0, false, nil
		}
		parts, latest = e.Parts, max(latest, at.Sub(e.ClosedAt))
		env.recordPhases(e)
	}
	return latest, true, nil
}

func sbSubmittedAt(e *ledger.Entry) (time.Time, bool) {
	for _, h := range e.History {
		if h.State == ledger.StateSubmitted {
			return h.At, true
		}
	}
	return time.Time{}, false
}

// recordPhases keeps when a submitted entry entered each state, after its period's close.
func (env *submitterBenchEnv) recordPhases(e *ledger.Entry) {
	for _, h := range e.History {
		env.offsets[h.State] = append(env.offsets[h.State], h.At.Sub(e.ClosedAt))
	}
}

// phases is the median time after the close at which files entered each state up to submitted.
func (env *submitterBenchEnv) phases() string {
	line := "median time after the close:"
	for _, st := range []ledger.State{ledger.StatePlanned, ledger.StateCreated, ledger.StateUploaded,
		ledger.StateReady, ledger.StateSubmitted} {
		if d := env.offsets[st]; len(d) > 0 {
			slices.Sort(d)
			line += fmt.Sprintf(" %s %d ms,", st, harness.Percentile(d, 50).Milliseconds())
		}
	}
	return line[:len(line)-1]
}
