package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/devstack"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// The end-to-end tests of issue 12 ("Nothing billable left behind"): the whole system in one process
// (devstack: embedded JetStream, the Connect emulator, ingest, the aggregator and two submitters), and the
// operator's command (usagepipe dlq replay, usagepipe parked …) run as a child process, SIGKILLed at each of
// its crash points in turn before a run that finishes.

const (
	compute         = "PRD-276-377-101"
	computeContract = "CRD-00100-00100-00001"
)

// nbEnv is one test's stack, its data directory and the catalog file the operator's command reads.
type nbEnv struct {
	t       *testing.T
	dir     string
	cats    devstack.Catalogs
	catalog string // the pipeline catalog's file
	log     *syncBuffer
	st      *devstack.Stack
	conn    *bus.Conn
	ledger  *ledger.Store
}

// nbCatalogs is the sample world with 4-second periods and 1 second of lateness.
func nbCatalogs(t *testing.T) devstack.Catalogs {
	t.Helper()
	c, err := devstack.SampleCatalogs()
	if err == nil {
		c, err = c.WithFixedPeriods(4*time.Second, time.Second)
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newNBEnv(t *testing.T) *nbEnv {
	return &nbEnv{t: t, dir: filepath.Join(t.TempDir(), "data"), cats: nbCatalogs(t), log: &syncBuffer{}}
}

// start (re)starts the stack with o on the test's data directory and the pipeline catalog cats.Pipeline.
func (e *nbEnv) start(o devstack.Options) {
	e.t.Helper()
	e.stop()
	o.DataDir, o.Catalogs, o.Partitions, o.LogOutput = e.dir, e.cats, 2, e.log
	o.IngestAddr, o.EmulatorAddr, o.MetricsAddr, o.NATSAddr, o.OperatorAddr, o.ConsoleAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	o.ProcessingTime, o.Submitters, o.KeepRejected = -1, 2, true
	if o.AcceptAfter == 0 {
		o.AcceptAfter = -1
	}
	st, err := devstack.Start(context.Background(), o)
	if err != nil {
		e.t.Fatalf("start: %v", err)
	}
	e.st = st
	e.t.Cleanup(e.stop)
	e.conn, err = bus.Connect(context.Background(), bus.Config{URL: st.URLs().NATS, Name: e.t.Name(), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		e.t.Fatal(err)
	}
	if e.ledger, err = ledger.Open(context.Background(), e.conn); err != nil {
		e.t.Fatal(err)
	}
	data, err := e.cats.Pipeline.MarshalFile()
	if err != nil {
		e.t.Fatal(err)
	}
	e.catalog = filepath.Join(e.t.TempDir(), "catalog.yaml")
	if err := os.WriteFile(e.catalog, data, 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// stop stops the stack (if it runs); on failure the services' log ends the test's output.
func (e *nbEnv) stop() {
	if e.st == nil {
		return
	}
	e.conn.Close()
	if err := e.st.Stop(); err != nil {
		e.t.Errorf("stop: %v", err)
	}
	e.st = nil
	if e.t.Failed() {
		lines := strings.Split(e.log.String(), "\n")
		e.t.Logf("services' log (last lines):\n%s", strings.Join(lines[max(0, len(lines)-80):], "\n"))
	}
}

// post sends events to ingest in one request and returns the answer.
func (e *nbEnv) post(evs ...events.Event) events.IngestResponse {
	e.t.Helper()
	body, _ := json.Marshal(evs)
	resp, err := http.Post(e.st.URLs().Ingest+"/v1/events", "application/cloudevents-batch+json", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out events.IngestResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		e.t.Fatalf("ingest answered %d: %v", resp.StatusCode, err)
	}
	return out
}

// computeUsage is a usage event of the compute product, now.
func computeUsage(id, asset, item, qty string) events.Event {
	q, err := events.ParseDecimal(qty)
	if err != nil {
		panic("computeUsage: " + err.Error())
	}
	return events.Event{SpecVersion: events.SpecVersion, ID: id, Source: "/e2e", Type: events.EventType, Subject: asset,
		Time: time.Now().UTC(), Data: events.Usage{Product: compute, Item: item, Quantity: q}}
}

// operator runs `usagepipe args… --nats-url … --catalog … --operator tester` as a child process, SIGKILLed
// at the step crash ("" : never); it returns the output and whether the child died of the SIGKILL.
func (e *nbEnv) operator(crash string, args ...string) (out string, killed bool, err error) {
	e.t.Helper()
	args = append(args, "--nats-url", e.st.URLs().NATS, "--catalog", e.catalog, "--operator", "tester",
		"--connect-url", e.st.URLs().Connect, "--connect-api-key", devstack.DefaultConnectAPIKey, "--timeout", "1m")
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childVar+"=1", crashVar+"="+crash)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return buf.String(), true, nil
		}
	}
	return buf.String(), false, err
}

// reconcile runs usagepipe reconcile (in-process) over every closed period and returns its report.
func (e *nbEnv) reconcile() (string, error) {
	e.t.Helper()
	var out syncBuffer
	err := run(context.Background(), []string{"reconcile", "--nats-url", e.st.URLs().NATS, "--catalog", e.catalog,
		"--connect-url", e.st.URLs().Connect, "--connect-api-key", devstack.DefaultConnectAPIKey, "--settle", "0s"},
		func(string) string { return "" }, &out)
	return out.String(), err
}

// explain runs usagepipe explain args… --json (in-process) against the stack and decodes its answer into v.
func (e *nbEnv) explain(v any, args ...string) {
	e.t.Helper()
	args = append(append([]string{"explain"}, args...), "--nats-url", e.st.URLs().NATS, "--connect-url", e.st.URLs().Connect,
		"--connect-api-key", devstack.DefaultConnectAPIKey, "--json")
	var out syncBuffer
	if err := run(context.Background(), args, func(string) string { return "" }, &out); err != nil {
		e.t.Fatalf("usagepipe %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	if err := json.Unmarshal([]byte(out.String()), v); err != nil {
		e.t.Fatalf("usagepipe %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
}

// crashThrough runs the operator's command once per crash step, each time wanting it killed there.
func (e *nbEnv) crashThrough(steps []string, args ...string) {
	e.t.Helper()
	for _, step := range steps {
		out, killed, err := e.operator(step, args...)
		if !killed {
			e.t.Fatalf("usagepipe %s did not reach step %s (err %v):\n%s", strings.Join(args, " "), step, err, out)
		}
	}
}

// billedKey is an asset and item of Connect records.
type billedKey struct{ asset, mpn string }

// billed returns, for product, the usage of the records of its accepted and closed files, by asset and item,
// how many records make it, and the external ids of those files.
func (e *nbEnv) billed(product string) (map[billedKey]events.Decimal, map[billedKey]int, []string) {
	sums, counts := map[billedKey]events.Decimal{}, map[billedKey]int{}
	var files []string
	for _, f := range e.st.Emulator().Files() {
		if f.Product == nil || f.Product.ID != product ||
			f.Status != usageapi.FileStatusAccepted && f.Status != usageapi.FileStatusClosed {
			continue
		}
		files = append(files, f.ExternalID)
		for _, r := range e.st.Emulator().Records(f.ID) {
			k := billedKey{r.AssetID, ""}
			if r.Item != nil {
				k.mpn = r.Item.MPN
			}
			q, err := events.ParseDecimal(string(r.Usage))
			if err != nil {
				e.t.Fatalf("record %s usage %q: %v", r.ID, r.Usage, err)
			}
			sums[k], counts[k] = sums[k].Add(q), counts[k]+1
		}
	}
	slices.Sort(files)
	return sums, counts, files
}

// waitBilled waits until product's accepted records bill exactly want, one record per key.
func (e *nbEnv) waitBilled(product string, want map[billedKey]string, timeout time.Duration) []string {
	e.t.Helper()
	var files []string
	var last string
	deadline := time.Now().Add(timeout)
	for {
		sums, counts, fs := e.billed(product)
		files, last = fs, fmt.Sprintf("sums %v, records %v, files %v", sums, counts, fs)
		ok := len(sums) == len(want)
		for k, q := range want {
			ok = ok && sums[k].String() == events.MustDecimal(q).String() && counts[k] == 1
		}
		if ok {
			return files
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("Connect does not bill %v after %v: %s", want, timeout, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// copies counts the messages of stream a replay published.
func (e *nbEnv) copies(stream string) int {
	e.t.Helper()
	n := 0
	err := e.conn.Read(context.Background(), stream, bus.ReadOptions{}, func(m bus.Msg) error {
		if m.Header.Get(events.HeaderReplay) != "" {
			n++
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// decisions parses a JSON replay report: each dead letter's decision.
func decisions(t *testing.T, out string) map[string]string {
	t.Helper()
	var rep struct {
		Items []struct{ ID, Decision string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("replay report: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, it := range rep.Items {
		got[it.ID] = it.Decision
	}
	return got
}

// onlyDecision wants every item of a JSON replay report decided d, n of them.
func onlyDecision(t *testing.T, out string, n int, d ...string) {
	t.Helper()
	got := decisions(t, out)
	if len(got) != n {
		t.Fatalf("%d items, want %d:\n%s", len(got), n, out)
	}
	for id, x := range got {
		if !slices.Contains(d, x) {
			t.Errorf("%s: %s, want %v", id, x, d)
		}
	}
}

var replaySteps = []string{"logged", "claimed", "published", "indexed"}

// waitFor polls cond every 200ms until it holds; the test fails when the deadline passes first.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
