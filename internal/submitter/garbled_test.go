package submitter

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/connectemu"
)

// garbledFaults answer about a third of the submitter's Connect calls (create, upload, submit, get, list)
// as a proxy in front of Connect may: an empty 200, a 200 `null`, an HTML 200 or a redirect, each half the
// time after serving the request (the change is made, its answer lost: the dangerous case).
var garbledFaults = func() []connectemu.Fault {
	var out []connectemu.Fault
	for _, kind := range []connectemu.FaultKind{connectemu.FaultEmpty, connectemu.FaultNull,
		connectemu.FaultHTML, connectemu.FaultRedirect} {
		for _, served := range []bool{false, true} {
			out = append(out, connectemu.Fault{Kind: kind, Served: served, Probability: 0.05})
		}
	}
	return out
}()

// TestGarbledAnswersStillBillEveryPeriodOnce: with garbled answers and redirects on every Connect call,
// every period and supplement is accepted, once: no file made twice, nothing parked (a file without id
// or status once parked entries as failed, and their supplements as base_failed), the totals exact.
func TestGarbledAnswersStillBillEveryPeriodOnce(t *testing.T) {
	log := &faultLog{}
	env := newTestEnvWith(t, connectemu.Options{Provider: autoAccept, Logger: slog.New(slog.NewTextHandler(log, nil))})
	subs := subscriptions("0014", 5)
	env.seedAssets(subs...)
	if err := env.emu.SetFaults("*", garbledFaults...); err != nil {
		t.Fatal(err)
	}
	env.start(env.options())
	periods := map[int]periodTruth{}
	for n := range 6 {
		periods[n] = periodTruth{closed: env.closePeriod(period(n), subs)}
	}
	for n := range 3 { // a supplement each for the first periods, gated on their base file
		p := periods[n]
		p.adjusted = env.adjustOne(period(n), subs[n])
		periods[n] = p
	}
	checkEveryPeriodAcceptedOnce(t, env, periods, 120*time.Second)
	env.emu.ClearFaults()
	for _, label := range []string{"empty", "null", "html", "redirect", "commit-empty", "commit-null", "commit-html", "commit-redirect"} {
		if log.count(label) == 0 {
			t.Errorf("no %s fault was injected: the test proves nothing about it", label)
		}
	}
}

// faultLog counts the emulator's fault log lines by the fault they name.
type faultLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *faultLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *faultLog) count(label string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), fmt.Sprintf("fault=%s\n", label))
}
