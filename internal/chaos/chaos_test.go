package chaos

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/childproc"
)

// TestShortChaosRun is the proof in the test suite: about 20 000 events through the real processes while
// every worker kind is SIGKILLed a few times, the NATS server once, and Connect answers 10 % of requests with
// faults, garbled answers (empty, null and HTML 200s, redirects, served first or not) among them. Events of a
// product the services do not know yet and records of assets Connect lacks are dead-lettered; once the
// causes are fixed they are replayed (the first replay SIGKILLed). Nothing may be lost or doubled, dead
// letters included, and no usage file may exist twice.
func TestShortChaosRun(t *testing.T) {
	if testing.Short() {
		t.Skip("the short chaos run takes about a minute and a half; -short skips it")
	}
	bins := t.TempDir()
	if err := childproc.Build(t.Context(), bins); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cfg := Config{
		Events: 20000, Subscriptions: 300, Products: 3, Duration: 20 * time.Second, Seed: 7,
		KillEvery: 2 * time.Second, FaultRate: 0.10, DuplicateShare: 0.05, LateShare: 0.005, Cluster: 1,
		SettleTimeout: 6 * time.Minute, WorkDir: t.TempDir(), BinDir: bins, Out: &out, DeadLetters: true,
	}
	res, err := Run(t.Context(), cfg)
	t.Cleanup(func() {
		t.Logf("chaos output:\n%s", out.String())
		if t.Failed() && res.Dir != "" {
			logTails(t, filepath.Join(res.Dir, "logs"))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Lost != 0 || res.Doubled != 0 || res.DuplicateFiles != 0 || res.Rejected != 0 || res.Unmapped != 0 {
		t.Errorf("%s (rejected %d, unmapped %d)", res.Line(), res.Rejected, res.Unmapped)
	}
	if !res.Settled {
		t.Errorf("Connect did not settle on the truth within %v", cfg.SettleTimeout)
	}
	if res.DeadLettersByReason["ingest unknown_product"] == 0 || res.DeadLettersByReason["submitter connect_invalid"] == 0 ||
		res.OpenDeadLetters != 0 || res.ReplayedAgainNew != 0 {
		t.Errorf("dead letters %v, open after the replay %d, a replay again published %d: want both kinds, none open, nothing new",
			res.DeadLettersByReason, res.OpenDeadLetters, res.ReplayedAgainNew)
	}
	for _, kind := range []string{kindIngest, kindAggregator, kindSubmitter, kindNATS} {
		if res.KillsByKind[kind] == 0 {
			t.Errorf("no %s was killed: %v", kind, res.KillsByKind)
		}
	}
	checkGarbledFaults(t, res.Faults)
}

// checkGarbledFaults wants the run to have met garbled answers, and some of them served first: otherwise
// it proves nothing about them. (Each kind alone is too rare in a short run to be sure of.)
func checkGarbledFaults(t *testing.T, faults map[string]int) {
	t.Helper()
	garbled, served := 0, 0
	for _, kind := range []string{"empty", "null", "html", "redirect"} {
		garbled += faults[kind] + faults["commit-"+kind]
		served += faults["commit-"+kind]
	}
	if garbled == 0 || served == 0 {
		t.Errorf("the run met %d garbled answers, %d of them served first; want some of each: %v", garbled, served, faults)
	}
}

// logTails logs the last lines of every process log of a failed run.
func logTails(t *testing.T, dir string) {
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, path := range logs {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		var lines []string
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			if lines = append(lines, sc.Text()); len(lines) > 25 {
				lines = lines[1:]
			}
		}
		f.Close()
		t.Logf("%s (last lines):\n%s", filepath.Base(path), strings.Join(lines, "\n"))
	}
}
