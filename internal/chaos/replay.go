package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/childproc"
	"github.com/usagepipe/usagepipe/internal/deadletter"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/reconcile"
	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// replayTimeout bounds one `usagepipe dlq replay` of the replay phase.
const replayTimeout = 5 * time.Minute

// replayPhase runs once Connect settled on what could be billed (Config.DeadLetters): it counts the dead
// letters by stage and reason, fixes their causes (the held-back product into the services' catalog, which
// restarts them; the missing assets into Connect), replays them with `usagepipe dlq replay --execute` (a
// first replay SIGKILLed after a random delay, then one to its end, then one that must find nothing new),
// and waits for Connect to settle on the whole truth: that is the run's verdict.
func (r *run) replayPhase(ctx context.Context, conn *bus.Conn, rep *report, cat *events.Catalog) error {
	rep.first = rep.v
	found, err := openLetters(ctx, conn, cat)
	if err != nil {
		return err
	}
	rep.result.DeadLetters, rep.result.DeadLettersByReason = total(found), found
	r.log.Printf("first settle reached (%s); dead letters: %s; fixing their causes", settledText(rep.first), tallyText(found))
	if err := r.fix(ctx); err != nil {
		return err
	}
	if err := r.replay(ctx, conn, rep); err != nil {
		return err
	}
	client, err := usageapi.New(r.sys.connectURL, apiKey)
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	ledgerOf := func(ctx context.Context) (*reconcile.Ledger, error) { return reconcile.ReadLedger(ctx, conn) }
	v := &verifier{client: client, cat: cat, truth: rep.truth, ledger: ledgerOf, logf: r.log.Printf}
	rep.v = v.wait(ctx, time.Now().Add(r.cfg.SettleTimeout))
	left, err := openLetters(context.WithoutCancel(ctx), conn, cat)
	if err != nil {
		return err
	}
	rep.result.OpenDeadLetters = total(left)
	return ctx.Err()
}

// openLetters counts the open dead letters by "stage reason".
func openLetters(ctx context.Context, conn *bus.Conn, cat *events.Catalog) (map[string]int, error) {
	l, err := ledger.Open(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	svc, err := deadletter.New(conn, l, cat)
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	listing, err := svc.List(ctx, deadletter.Filter{Open: true})
	if err != nil {
		return nil, fmt.Errorf("chaos: dead letters: %w", err)
	}
	out := map[string]int{}
	for _, c := range listing.Counts {
		out[c.Stage+" "+string(c.Reason)] = c.Open
	}
	return out, nil
}

// fix puts the held-back product into the services' catalog (restarting every worker, which read it at
// start) and makes the missing assets exist in Connect.
func (r *run) fix(ctx context.Context) error {
	data, err := os.ReadFile(filepath.Join(r.dir, fixedCatalogFile))
	if err == nil {
		err = os.WriteFile(filepath.Join(r.dir, pipelineCatalogFile), data, 0o644)
	}
	if err != nil {
		return fmt.Errorf("chaos: fix the catalog: %w", err)
	}
	if err := r.sys.restartWorkers(ctx); err != nil {
		return err
	}
	return r.sys.addAssets(ctx, missingCatalogAssets(r.ps, r.cfg.Subscriptions))
}

// replay runs the replays of the phase and records what they decided: the first is SIGKILLed as soon as
// the replay log shows it at work (a letter logged), the second runs to its end (tried again on an error),
// a third must publish nothing.
func (r *run) replay(ctx context.Context, conn *bus.Conn, rep *report) error {
	_, killed, err := r.runReplay(ctx, func() bool { return replaysLogged(ctx, conn) > 0 })
	if err != nil {
		return err
	}
	rep.result.ReplayKilled = killed
	r.log.Printf("a replay SIGKILLed once it had logged a replay: killed=%t (%d logged); replaying to the end", killed, replaysLogged(ctx, conn))
	var decided map[string]int
	for attempt := 1; ; attempt++ {
		if decided, _, err = r.runReplay(ctx, nil); err == nil || attempt == 3 || ctx.Err() != nil {
			break
		}
		r.log.Printf("replay: %v (trying again)", err)
	}
	if err != nil {
		return err
	}
	rep.replayed = decided
	again, _, err := r.runReplay(ctx, nil)
	if err != nil {
		return err
	}
	rep.result.ReplayedAgainNew = again[string(deadletter.DecisionCount)] + again[string(deadletter.DecisionAdjust)] +
		again[string(deadletter.DecisionResubmit)]
	r.log.Printf("replay decisions: %s; a replay again: %s", tallyText(decided), tallyText(again))
	return nil
}

// replaysLogged counts the replay logs in the ledger (-1 when it cannot be read).
func replaysLogged(ctx context.Context, conn *bus.Conn) int {
	l, err := ledger.Open(ctx, conn)
	if err != nil {
		return -1
	}
	keys, err := l.Keys(ctx, ledger.ReplaysPrefix)
	if err != nil {
		return -1
	}
	return len(keys)
}

// runReplay runs `usagepipe dlq replay --execute --json` and returns its decisions' counts; with killWhen it
// SIGKILLs the replay as soon as killWhen holds (killed: it was still running then).
func (r *run) runReplay(ctx context.Context, killWhen func() bool) (map[string]int, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, replayTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(r.sys.bins, childproc.BinUsagepipe), "dlq", "replay", "--execute", "--json",
		"--catalog", filepath.Join(r.dir, fixedCatalogFile), "--nats-url", r.sys.natsURL(), "--operator", "chaos",
		"--timeout", replayTimeout.String())
	cmd.Env = childproc.CleanEnv()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		return nil, false, fmt.Errorf("chaos: replay: %w", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	err := killWhenDue(cmd, waited, killWhen)
	var exit *exec.ExitError
	if killWhen != nil && errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return nil, true, nil
		}
	}
	if err != nil {
		return nil, false, fmt.Errorf("chaos: replay: %w: %s", err, strings.TrimSpace(errOut.String()))
	}
	var report struct{ Items []struct{ Decision string } }
	if err := json.Unmarshal(out.Bytes(), &report); err != nil {
		return nil, false, fmt.Errorf("chaos: replay report: %w", err)
	}
	counts := map[string]int{}
	for _, it := range report.Items {
		counts[it.Decision]++
	}
	return counts, false, nil
}

// killWhenDue waits for the command's end, SIGKILLing it first if killWhen (polled every 2 ms) holds.
func killWhenDue(cmd *exec.Cmd, waited <-chan error, killWhen func() bool) error {
	if killWhen == nil {
		return <-waited
	}
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case err := <-waited:
			return err
		case <-t.C:
			if killWhen() {
				_ = cmd.Process.Signal(syscall.SIGKILL)
				return <-waited
			}
		}
	}
}

// restartWorkers SIGKILLs and starts again every worker (they read the catalog at start), then waits for
// ingest.
func (s *system) restartWorkers(ctx context.Context) error {
	for _, kind := range []string{kindIngest, kindAggregator, kindSubmitter} {
		for _, p := range s.workers[kind] {
			p.Kill()
			if err := p.Start(); err != nil {
				return err
			}
		}
	}
	for _, u := range s.ingestURLs {
		if err := childproc.WaitHTTP(ctx, u+"/readyz", readyTimeout); err != nil {
			return fmt.Errorf("chaos: ingest %s: %w", u, err)
		}
	}
	return nil
}

// addAssets makes assets exist in the emulator (POST /emulator/assets), trying again through its faults.
func (s *system) addAssets(ctx context.Context, assets []connectemu.CatalogAsset) error {
	body, err := json.Marshal(assets)
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	return childproc.Poll(ctx, readyTimeout, func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.connectURL+"/emulator/assets", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "ApiKey "+apiKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("POST /emulator/assets: %s", resp.Status)
		}
		return nil
	})
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// tallyText formats a tally as "a 3, b 1" in key order ("none" when empty).
func tallyText(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func settledText(v verdict) string {
	lost, doubled := reconcile.Count(v.diffs)
	return fmt.Sprintf("settled=%t lost=%d doubled=%d, dead-lettered keys left out", v.settled, lost, doubled)
}
