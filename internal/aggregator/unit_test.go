package aggregator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregate"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
)

func TestPackerGroupsBySubjectInOrderAndBoundsSize(t *testing.T) {
	pk := newPacker(10)
	for _, l := range []struct{ subj, line string }{{"b", "b1"}, {"a", "a1"}, {"b", "b2"}, {"b", "b3333"}, {"a", "a-too-long-line"}} {
		pk.add(l.subj, "k", []byte(l.line))
	}
	var got []string
	for _, m := range pk.drain(nil) {
		got = append(got, m.subject+":"+strings.ReplaceAll(string(m.data), "\n", "|"))
	}
	want := []string{"b:b1|b2|", "b:b3333|", "a:a1|", "a:a-too-long-line|"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("want %v, have %v", want, got)
	}
	if rest := pk.drain(nil); len(rest) != 0 {
		t.Errorf("drain left %d messages", len(rest))
	}
}

func TestSplitParts(t *testing.T) {
	msgs := make([]outMsg, 7)
	for i := range msgs {
		msgs[i].data = make([]byte, 3)
	}
	tests := []struct {
		name              string
		n, maxMsgs, bytes int
		want              []int
	}{
		{"empty commit is one empty part", 0, 3, 100, []int{0}},
		{"by count", 7, 3, 100, []int{3, 3, 1}},
		{"by bytes", 7, 100, 7, []int{2, 2, 2, 1}},
		{"one fits", 7, 7, 100, []int{7}},
	}
	for _, tt := range tests {
		var got []int
		for _, p := range splitParts(msgs[:tt.n], tt.maxMsgs, tt.bytes) {
			got = append(got, len(p))
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: want %v, have %v", tt.name, tt.want, got)
		}
	}
}

func TestProgressBase(t *testing.T) {
	if p := (progress{From: 10, To: 20, Part: 2, Parts: 2}); !p.complete() || p.base() != 20 {
		t.Errorf("complete commit: base %d", p.base())
	}
	if p := (progress{From: 10, To: 20, Part: 1, Parts: 3}); p.complete() || p.base() != 9 {
		t.Errorf("incomplete commit: base %d, want 9", p.base())
	}
	if _, err := decodeProgress([]byte(`{"from":5,"to":4,"part":1,"parts":1}`)); err == nil {
		t.Error("inconsistent progress accepted")
	}
}

func TestRendezvousMovesOnlyTheLeavingMembersPartitions(t *testing.T) {
	members := []string{"a", "b", "c", "d"}
	const partitions = 256
	owns := map[string]int{}
	for p := range partitions {
		before := desiredOwner(members, p)
		owns[before]++
		after := desiredOwner([]string{"a", "b", "d"}, p)
		if before != "c" && after != before {
			t.Fatalf("partition %d moved from %s to %s although only c left", p, before, after)
		}
	}
	for _, m := range members {
		if owns[m] < partitions/8 {
			t.Errorf("member %s owns %d of %d partitions: unbalanced %v", m, owns[m], partitions, owns)
		}
	}
	if desiredOwner(nil, 0) != "" {
		t.Error("no members must give no owner")
	}
}

func TestLeases(t *testing.T) {
	env := newTestEnv(t, 1)
	ctx := context.Background()
	kv, err := env.conn.KV(ctx, bus.BucketLeases)
	if err != nil {
		t.Fatal(err)
	}
	now, ttl := time.Now(), 5*time.Second
	la, err := acquireLease(ctx, kv, 3, "a", now, ttl)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acquireLease(ctx, kv, 3, "b", now, ttl); !errors.Is(err, errLeaseTaken) {
		t.Fatalf("live lease of a: want errLeaseTaken for b, have %v", err)
	}
	la, err = renewLease(ctx, kv, 3, "a", la, now.Add(time.Second), ttl)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := acquireLease(ctx, kv, 3, "b", now.Add(ttl+2*time.Second), ttl) // a's lease has expired
	if err != nil {
		t.Fatalf("expired lease: %v", err)
	}
	if _, err := renewLease(ctx, kv, 3, "a", la, now.Add(ttl+2*time.Second), ttl); !leaseLost(err) {
		t.Fatalf("renewal by the old holder: want a lost lease, have %v", err)
	}
	if err := releaseLease(ctx, kv, 3, la); !leaseLost(err) {
		t.Fatalf("release by the old holder must not delete b's lease: %v", err)
	}
	if err := releaseLease(ctx, kv, 3, lb); err != nil {
		t.Fatal(err)
	}
	if _, err := acquireLease(ctx, kv, 3, "a", now, ttl); err != nil {
		t.Fatalf("released lease: %v", err)
	}
	if err := heartbeat(ctx, kv, "a", now, ttl); err != nil {
		t.Fatal(err)
	}
	if err := heartbeat(ctx, kv, "old", now.Add(-2*ttl), ttl); err != nil {
		t.Fatal(err)
	}
	members, err := liveMembers(ctx, kv, "self", now)
	if err != nil || fmt.Sprint(members) != "[self a]" {
		t.Errorf("live members: want [self a], have %v (%v)", members, err)
	}
}

func TestReplayGapRetriesSlowly(t *testing.T) {
	if d := restartDelayAfter(fmt.Errorf("partition 3: start: %w", ErrReplayGap)); d != replayGapRetry {
		t.Errorf("after ErrReplayGap: restart in %v, want %v", d, replayGapRetry)
	}
	if d := restartDelayAfter(errFenced); d != restartDelay {
		t.Errorf("after a fence: restart in %v, want %v", d, restartDelay)
	}
}

// TestOnlyClosedRecordsAndMarksAreCommittedAtTheCommitInterval: a pending part holding closed records or marks
// is committed by the timer after CommitInterval; one of progress only, adjustments or dead letters waits for
// ProgressCommitInterval, and never less than CommitInterval.
func TestOnlyClosedRecordsAndMarksAreCommittedAtTheCommitInterval(t *testing.T) {
	start := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	adj := []events.PeriodRecord{{Revision: 1}}
	dl := []events.DeadLetter{{Reason: "unknown_item"}}
	cases := []struct {
		name     string
		out      aggregate.Output
		progress time.Duration
		dueAfter time.Duration
	}{
		{"progress only", aggregate.Output{}, time.Second, time.Second},
		{"closed records", aggregate.Output{Closed: []events.PeriodRecord{{}}, Adjustments: adj}, time.Second, 200 * time.Millisecond},
		{"marks", aggregate.Output{Marks: []events.PartitionMark{{}}, DeadLetters: dl}, time.Second, 200 * time.Millisecond},
		{"adjustments", aggregate.Output{Adjustments: adj}, time.Second, time.Second},
		{"dead letters", aggregate.Output{DeadLetters: dl}, time.Second, time.Second},
		{"progress interval below the commit interval", aggregate.Output{Adjustments: adj}, 50 * time.Millisecond, 200 * time.Millisecond},
	}
	for _, c := range cases {
		r := &runner{deps: &deps{opts: Options{CommitInterval: 200 * time.Millisecond, ProgressCommitInterval: c.progress}},
			pend: &pending{messages: 1, started: start, out: c.out}}
		if r.timerCommitDue(start.Add(c.dueAfter - time.Millisecond)) {
			t.Errorf("%s: due %v after the first message, want %v", c.name, c.dueAfter-time.Millisecond, c.dueAfter)
		}
		if !r.timerCommitDue(start.Add(c.dueAfter)) {
			t.Errorf("%s: not due %v after the first message", c.name, c.dueAfter)
		}
	}
}
