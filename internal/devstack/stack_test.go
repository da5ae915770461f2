package devstack_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/devstack"
	"github.com/usagepipe/usagepipe/internal/dirlock"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// A stack stopped after its first usage file and started again on the same data directory resumes: the
// emulator still has the file (once), the observer recounts the stored events, and new usage becomes a new
// file of its own period.
func TestSecondStartResumesFromTheDataDirectory(t *testing.T) {
	dir := t.TempDir()
	first := start(t, testOptions(t, dir))
	e := first.Catalogs().ExampleEvent("resume-1", time.Now())
	post(t, first, e, nil)
	waitFor(t, "the first accepted file", 60*time.Second, func() bool { return len(acceptedFiles(first, e.Data.Product)) == 1 })
	if err := first.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}

	second := start(t, testOptions(t, dir))
	if !second.Resumed() {
		t.Error("the second start does not report a resumed data directory")
	}
	if n := len(acceptedFiles(second, e.Data.Product)); n != 1 {
		t.Fatalf("after restart the emulator has %d accepted files of %s, want the 1 from before", n, e.Data.Product)
	}
	post(t, second, second.Catalogs().ExampleEvent("resume-2", time.Now()), nil)
	waitFor(t, "a second accepted file", 60*time.Second, func() bool { return len(acceptedFiles(second, e.Data.Product)) == 2 })
	waitFor(t, "the observer to count both stored events", 10*time.Second, func() bool {
		return second.Summary(context.Background()).EventsStored == 2
	})
	files := acceptedFiles(second, e.Data.Product)
	if files[0].ExternalID == files[1].ExternalID {
		t.Errorf("two files with external id %s", files[0].ExternalID)
	}
	if sum := second.Summary(context.Background()); sum.FilesIn(usageapi.FileStatusAccepted) < 2 || !strings.Contains(sum.String(), "accepted") {
		t.Errorf("summary: %s", sum)
	}
}

// The stack serves each worker's metrics, and the emulator and metrics servers answer /healthz.
func TestEndpointsAnswer(t *testing.T) {
	st := start(t, testOptions(t, t.TempDir()))
	u := st.URLs()
	for _, url := range []string{u.Emulator + "/healthz", u.Metrics + "/healthz", u.Ingest + "/readyz",
		u.Metrics + "/metrics/ingest", u.Metrics + "/metrics/aggregator", u.Metrics + "/metrics/submitter",
		u.Operator + "/api/v1/whoami", u.Operator + "/api/v1/status"} {
		resp, err := http.Get(url)
		if err != nil {
			t.Errorf("GET %s: %v", url, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s: %s, %d bytes", url, resp.Status, len(body))
		}
	}
}

// The simulator's traffic goes through the real ingest endpoint: nothing is rejected, its repeats are
// answered duplicate, and every product of the sample world ends in an accepted usage file.
func TestSimulatedTrafficBecomesAcceptedFilesOfEveryProduct(t *testing.T) {
	o := testOptions(t, t.TempDir())
	o.Simulate, o.SimulateEvery = true, 100*time.Millisecond
	st := start(t, o)
	waitFor(t, "duplicates answered", 60*time.Second, func() bool { return st.Summary(context.Background()).Duplicates > 0 })
	for _, p := range st.Catalogs().Pipeline.Products {
		waitFor(t, "an accepted file of "+p.ID, 60*time.Second, func() bool { return len(acceptedFiles(st, p.ID)) > 0 })
	}
	sum := st.Summary(context.Background())
	if sum.Rejected != 0 || sum.DeadLetters != 0 || sum.FilesIn(usageapi.FileStatusInvalid, usageapi.FileStatusRejected) != 0 {
		t.Errorf("simulated traffic was refused somewhere: %s", sum)
	}
}

// A second stack on the data directory of a running one is refused, and so is --fresh, with a message that
// names the holder's pid and the lock file; the running stack's store is untouched, and once it has stopped
// the directory can be used again.
func TestSecondStackOnARunningDataDirectoryIsRefused(t *testing.T) {
	dir := t.TempDir()
	first, err := devstack.Start(context.Background(), testOptions(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	e := first.Catalogs().ExampleEvent("locked-1", time.Now())
	post(t, first, e, nil)
	for _, fresh := range []bool{false, true} {
		o := testOptions(t, dir)
		o.Fresh = fresh
		second, err := devstack.Start(context.Background(), o)
		if err == nil {
			second.Stop()
			t.Fatalf("fresh=%v: a second stack started on a running stack's data directory", fresh)
		}
		for _, want := range []string{"pid " + strconv.Itoa(os.Getpid()), filepath.Join(dir, dirlock.FileName)} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("fresh=%v: refusal %q does not name %q", fresh, err, want)
			}
		}
	}
	waitFor(t, "the first stack to count its event", 10*time.Second, func() bool {
		return first.Summary(context.Background()).EventsStored == 1
	})
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	third := start(t, testOptions(t, dir))
	if !third.Resumed() {
		t.Error("the directory was not kept")
	}
	waitFor(t, "the stored event", 10*time.Second, func() bool { return third.Summary(context.Background()).EventsStored == 1 })
}

// TestStatusLineShowsAggregatorHealth: the status line says how many partitions a live aggregator owns.
func TestStatusLineShowsAggregatorHealth(t *testing.T) {
	st := start(t, testOptions(t, t.TempDir()))
	deadline := time.Now().Add(20 * time.Second)
	for {
		line := st.Summary(context.Background()).String()
		if strings.Contains(line, "aggregator 2/2 partitions") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status line without the aggregator's partitions: %s", line)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestStatusLineCallsOutPartitionsWithoutOwner(t *testing.T) {
	line := devstack.Summary{Partitions: 4, Owned: 1, MaxLag: 2.5}.String()
	if !strings.Contains(line, "aggregator 1/4 partitions, lag 2.5s (3 WITHOUT OWNER)") {
		t.Errorf("status line: %s", line)
	}
}

// A stack whose operator address is taken does not start, and says why alone: the services it had started
// by then, cancelled because of it, are not reported as failing too ("submitter: … context canceled").
func TestABusyAddressIsTheOnlyFailureReported(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	o := testOptions(t, t.TempDir())
	o.OperatorAddr = busy.Addr().String()
	st, err := devstack.Start(context.Background(), o)
	if err == nil {
		_ = st.Stop()
		t.Fatal("a stack started on a busy operator address")
	}
	if !strings.Contains(err.Error(), busy.Addr().String()) || strings.Contains(err.Error(), "context canceled") {
		t.Errorf("want the busy address named and no cancellation reported, have %v", err)
	}
}
