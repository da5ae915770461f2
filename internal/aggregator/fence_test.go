package aggregator

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// testRunner returns a started runner of partition 0 that commits only when told to.
func testRunner(t *testing.T, env *testEnv, conn Bus, member string) *runner {
	t.Helper()
	o := env.testOptions(member)
	o.CommitMessages, o.CommitOutputs = 1<<30, 1<<30
	d, err := newDeps(conn, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := newRunner(d, 0)
	if err := r.start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

// feedRunner hands the runner every message of its partition that it has not applied yet.
func feedRunner(t *testing.T, r *runner) {
	t.Helper()
	o := bus.ReadOptions{Filters: []string{subjects.Events(r.p)}, StartSeq: r.applied + 1}
	if err := r.conn.Read(context.Background(), bus.StreamEvents, o, func(m bus.Msg) error {
		return r.handle(context.Background(), m, decode(m))
	}); err != nil {
		t.Fatal(err)
	}
}

// closedPeriodInput publishes, for subscription AS-<tag>, an event of the current period and one of a closed
// period (an adjustment, revision 1), then a tick.
func closedPeriodInput(env *testEnv, tag string) {
	at := env.closedEventTime()
	sub := "AS-" + tag
	env.publishEvents(usageEvent(tag+"-1", sub, "UNITS", "1", time.Now()), usageEvent(tag+"-2", sub, "UNITS", "2", at))
	env.tickAll()
}

// TestStaleOwnerIsFenced lets two runners of one partition start from the same progress: the first commit
// wins, the stale one is rejected with ErrFenced and nothing it computed is stored.
func TestStaleOwnerIsFenced(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, 1)
	stale, owner := testRunner(t, env, env.conn, "stale"), testRunner(t, env, env.conn, "owner")
	closedPeriodInput(env, "a")
	sleepUntil(time.Now().Truncate(time.Second).Add(1600 * time.Millisecond))
	env.tickAll()
	feedRunner(t, stale)
	feedRunner(t, owner)
	if owner.pend.outputs() == 0 || stale.pend.outputs() != owner.pend.outputs() {
		t.Fatalf("both runners should hold the same output: owner %d, stale %d", owner.pend.outputs(), stale.pend.outputs())
	}
	if err := owner.commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := lastSeq(t, env.conn, bus.StreamAgg, subjects.Progress(0)); owner.fence != want {
		t.Fatalf("owner's fence %d, want its progress record's sequence %d", owner.fence, want)
	}
	err := stale.commit(context.Background())
	if !errors.Is(err, errFenced) || !errors.Is(err, bus.ErrFenced) {
		t.Fatalf("stale commit: want ErrFenced, have %v", err)
	}
	out := readOutputs(t, env.conn)
	checkNoDuplicates(t, out)
	if r := findRecord(out, "AS-a", "UNITS", 1); r == nil {
		t.Error("the owner's adjustment was not stored")
	}
	if prog, _ := lastProgress(t, env.conn, 0); prog.Member != "owner" {
		t.Errorf("last progress written by %q, want owner", prog.Member)
	}
	// A runner started now resumes after the owner's commit and emits nothing again.
	next := testRunner(t, env, env.conn, "next")
	feedRunner(t, next)
	if next.base != owner.base || next.pend.messages != 0 {
		t.Errorf("next runner: base %d (want %d), %d pending messages", next.base, owner.base, next.pend.messages)
	}
}

// ambiguousBus stores commits but reports them as ambiguous while failCommits is set; with dropCommits it
// reports them as ambiguous without storing them.
type ambiguousBus struct {
	Bus
	failCommits, dropCommits atomic.Bool
}

func (b *ambiguousBus) CommitAtomic(ctx context.Context, msgs []bus.Msg, fence uint64) (uint64, error) {
	if b.dropCommits.Load() {
		return 0, fmt.Errorf("%w: injected: lost before the server", bus.ErrAmbiguous)
	}
	seq, err := b.Bus.CommitAtomic(ctx, msgs, fence)
	if err == nil && b.failCommits.Load() {
		return 0, fmt.Errorf("%w: injected: reply lost", bus.ErrAmbiguous)
	}
	return seq, err
}

// TestAmbiguousCommit checks both outcomes of an ambiguous commit: one that landed moves the fence (the next
// commit succeeds), one that did not stops the runner, and a rebuilt runner commits the same output once.
func TestAmbiguousCommit(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, 1)
	ab := &ambiguousBus{Bus: env.conn}
	r := testRunner(t, env, ab, "r")
	closedPeriodInput(env, "a")
	feedRunner(t, r)
	ab.failCommits.Store(true)
	if err := r.commit(context.Background()); err != nil {
		t.Fatalf("ambiguous commit that landed: %v", err)
	}
	ab.failCommits.Store(false)
	if prog, _ := lastProgress(t, env.conn, 0); prog.To != r.base {
		t.Fatalf("progress %+v, runner base %d", prog, r.base)
	}
	closedPeriodInput(env, "b")
	feedRunner(t, r)
	if err := r.commit(context.Background()); err != nil {
		t.Fatalf("commit after a resolved ambiguous one: %v", err)
	}
	closedPeriodInput(env, "c")
	feedRunner(t, r)
	ab.dropCommits.Store(true)
	if err := r.commit(context.Background()); !errors.Is(err, bus.ErrAmbiguous) {
		t.Fatalf("ambiguous commit that did not land: want ErrAmbiguous, have %v", err)
	}
	ab.dropCommits.Store(false)
	rebuilt := testRunner(t, env, ab, "rebuilt")
	feedRunner(t, rebuilt)
	if err := rebuilt.commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := readOutputs(t, env.conn)
	checkNoDuplicates(t, out)
	for _, tag := range []string{"a", "b", "c"} {
		if r := findRecord(out, "AS-"+tag, "UNITS", 1); r == nil || r.Quantity.String() != "2" {
			t.Errorf("input %s: want its adjustment of 2, have %+v", tag, r)
		}
	}
}

// TestFenceFollowsEveryPart commits output split into one message per batch and checks that every part was
// fenced on the previous one: the runner's fence ends on the last progress record, which is complete.
func TestFenceFollowsEveryPart(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, 1)
	r := testRunner(t, env, env.conn, "parts")
	r.opts.partMessages = 1
	closedPeriodInput(env, "a")
	other := usageEvent("c-1", "AS-c", "UNITS", "5", env.closedEventTime())
	other.Data.Contract = "CRD-T2" // an adjustment on another subject
	env.publishEvents(other)
	feedRunner(t, r)
	if err := r.commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	prog, _ := lastProgress(t, env.conn, 0)
	if prog.Parts < 2 || !prog.complete() || prog.Emitted != prog.Parts {
		t.Fatalf("want a complete commit of several one-message parts, have %+v", prog)
	}
	if want := lastSeq(t, env.conn, bus.StreamAgg, subjects.Progress(0)); r.fence != want {
		t.Fatalf("fence %d, want the last progress record's sequence %d", r.fence, want)
	}
	checkNoDuplicates(t, readOutputs(t, env.conn))
}
