package submitter

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// childEnvVar makes the test binary run the submitter command instead of the tests (see TestMain).
const childEnvVar = "SUBMITTER_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnvVar) != "" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}

// runChild is the submitter command as a child process, configured only through USAGEPIPE_* variables.
func runChild() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := Run(ctx, nil, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "submitter child:", err)
		return 1
	}
	return 0
}

// child is a submitter running as a separate process (the test binary re-executed).
type child struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startChild starts a submitter process with the test's short intervals; its log goes to logPath. Its
// member id is the default hostname-pid: every incarnation is a new member, as after a pod restart.
func (env *testEnv) startChild(logPath string) *child {
	env.t.Helper()
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		env.t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnvVar+"=1",
		"USAGEPIPE_NATS_URL="+env.srv.URL(), "USAGEPIPE_CATALOG="+env.catalogPath,
		"USAGEPIPE_CONNECT_URL="+env.connectURL(), "USAGEPIPE_CONNECT_API_KEY="+testAPIKey,
		fmt.Sprintf("USAGEPIPE_PARTITIONS=%d", testPartitions), "USAGEPIPE_METRICS_ADDR=127.0.0.1:0",
		"USAGEPIPE_LEASE_TTL=2s", "USAGEPIPE_CONNECT_LIST_LAG="+testListLag.String(), "USAGEPIPE_SCAN_INTERVAL=200ms", "USAGEPIPE_FOLLOW_MAX_INTERVAL=300ms",
		"USAGEPIPE_RETRY_MAX_INTERVAL=500ms", "USAGEPIPE_SUPPLEMENT_DELAY=0s", "USAGEPIPE_ACK_WAIT=2s", "USAGEPIPE_LOG_LEVEL=WARN",
		"OTEL_SDK_DISABLED=true")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		env.t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logFile.Close(); close(c.done) }()
	env.t.Cleanup(c.kill)
	return c
}

// kill SIGKILLs the process and waits until it is gone.
func (c *child) kill() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// dumpLogOnFailure prints the tail of the children's log if the test failed.
func dumpLogOnFailure(t *testing.T, logPath string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		b, _ := os.ReadFile(logPath)
		if len(b) > 8000 {
			b = b[len(b)-8000:]
		}
		t.Logf("submitter log tail (%s):\n%s", logPath, bytes.TrimSpace(b))
	})
}

func TestSIGKILLedSubmitterStillGivesOneAcceptedFilePerPeriod(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	env := newTestEnv(t, autoAccept)
	subs := subscriptions("0007", 6)
	env.seedAssets(subs...)
	if err := env.emu.SetFaults("*", chaosFaults...); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "submitter.log")
	dumpLogOnFailure(t, logPath)

	k := env.startKiller(logPath, 7)
	periods := map[int]periodTruth{}
	for n := range 8 {
		var p periodTruth
		withUsage := subs
		if n == 3 { // a subscription Connect has no asset for: a repair, with dead letters, under the kills
			p.unknown = "AS-0007-UNKNOWN"
			withUsage = append(slices.Clone(subs), p.unknown)
		}
		p.closed = env.closePeriod(period(n), withUsage)
		if n == 5 { // a supplement of the first period
			first := periods[0]
			first.adjusted = env.adjustOne(period(0), subs[0])
			periods[0] = first
		}
		periods[n] = p
		time.Sleep(300 * time.Millisecond) // spreads the periods over the kills
	}
	t.Logf("submitter SIGKILLed %d times", k.stop())
	checkEveryPeriodAcceptedOnce(t, env, periods, 90*time.Second)
}

// killer SIGKILLs the submitter process every 100–700 ms (seeded) and starts a new one, until stop.
type killer struct {
	stopped, done chan struct{}
	kills         int
}

// startKiller starts a submitter process and the killer of its incarnations.
func (env *testEnv) startKiller(logPath string, seed uint64) *killer {
	k := &killer{stopped: make(chan struct{}), done: make(chan struct{})}
	proc := env.startChild(logPath)
	go func() {
		defer close(k.done)
		rng := rand.New(rand.NewPCG(seed, seed))
		for {
			select {
			case <-k.stopped:
				return
			case <-time.After(time.Duration(100+rng.IntN(600)) * time.Millisecond): // chaos timing
			}
			proc.kill()
			k.kills++
			proc = env.startChild(logPath)
		}
	}()
	return k
}

// stop stops the killer, leaving the last submitter process running, and returns how many it killed.
func (k *killer) stop() int {
	close(k.stopped)
	<-k.done
	return k.kills
}
