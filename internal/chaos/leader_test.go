package chaos

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/childproc"
)

func TestBelievedMetaLeaderForgetsWhatANodeBelievedBeforeItsRestart(t *testing.T) {
	log := strings.Join([]string{
		childproc.StartLine + "1 of nats-0 at 2026-12-02T06:31:15Z",
		"[123] [INF] JetStream cluster new metadata leader: chaos-nats-2/chaos",
		"[123] [INF] Self is new JetStream cluster metadata leader",
		childproc.StartLine + "2 of nats-0 at 2026-12-02T06:31:20Z",
	}, "\n")
	if have := believedMetaLeader(strings.NewReader(log), "chaos-nats-0"); have != "" {
		t.Errorf("after a restart the node believes %q", have)
	}
	log += "\n[124] [INF] JetStream cluster new metadata leader: chaos-nats-1/chaos\n"
	if have := believedMetaLeader(strings.NewReader(log), "chaos-nats-0"); have != "chaos-nats-1" {
		t.Errorf("believes %q, want chaos-nats-1", have)
	}
}

// TestNATSKillHitsTheMetaLeader starts a real three-node cluster, lets the killer kill one node, and checks
// that it was the meta leader: only then do the survivors elect a new one (they log it after the kill).
func TestNATSKillHitsTheMetaLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries and runs a three-node cluster")
	}
	sys := startCluster(t)
	waitUntil(t, "a meta leader in the nodes' logs", func() bool { return sys.metaLeader() >= 0 })
	leader := sys.nats[sys.metaLeader()].Name()
	sizes := map[string]int64{}
	for _, p := range sys.nats {
		fi, err := os.Stat(p.LogPath())
		if err != nil {
			t.Fatal(err)
		}
		sizes[p.Name()] = fi.Size()
	}
	var logs []string
	var mu sync.Mutex
	k := newKiller(sys, 1, time.Second, time.Time{}, time.Time{}, func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		logs = append(logs, fmt.Sprintf(format, args...))
	})
	k.killNATS(t.Context())
	if len(logs) != 1 || !strings.HasPrefix(logs[0], "killed "+leader+", the JetStream meta leader") {
		t.Errorf("the killer did not say it killed the leader %s: %q", leader, logs)
	}
	if len(logs) == 0 {
		t.FailNow()
	}
	// Independent of the logs' reading above: a follower's death elects nobody; the leader's makes the
	// survivors (the nodes not killed) announce a new one.
	waitUntil(t, "the survivors to elect a new meta leader", func() bool {
		for _, p := range sys.nats {
			if !strings.HasPrefix(logs[0], "killed "+p.Name()+",") && electedSince(t, p.LogPath(), sizes[p.Name()]) {
				return true
			}
		}
		return false
	})
}

// startCluster builds the binaries and starts three clustered NATS nodes, killed at the end of the test.
func startCluster(t *testing.T) *system {
	t.Helper()
	bins, dir := t.TempDir(), t.TempDir()
	if err := childproc.Build(t.Context(), bins); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"logs", "nats"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sys := newSystem(Config{Cluster: 3}.withDefaults(), dir, bins)
	t.Cleanup(sys.close)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := sys.startNATS(ctx); err != nil {
		logTails(t, filepath.Join(dir, "logs"))
		t.Fatal(err)
	}
	return sys
}

// electedSince reports whether the log announces a meta leader after its first from bytes.
func electedSince(t *testing.T, path string, from int64) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rest := string(b[min(from, int64(len(b))):])
	return strings.Contains(rest, selfMetaLeader) || strings.Contains(rest, newMetaLeader)
}

// waitUntil polls cond every 100ms; it fails the test when cond does not hold within a minute.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after a minute waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestNatsExitedNamesTheNodesNotRunning: a provisioning failure names the nodes that died (here: never
// started), and nothing when every node runs.
func TestNatsExitedNamesTheNodesNotRunning(t *testing.T) {
	sys := newSystem(Config{Cluster: 2}.withDefaults(), t.TempDir(), t.TempDir())
	sys.nats = append(sys.nats, sys.newProc(kindNATS, "nats-0", childproc.BinUsagepipe, nil, nil))
	err := sys.natsExited()
	if err == nil || !strings.Contains(err.Error(), "nats-0 is not running") {
		t.Fatalf("have %v, want nats-0 named", err)
	}
	sys.nats = nil
	if err := sys.natsExited(); err != nil {
		t.Errorf("no nodes, have %v", err)
	}
}
