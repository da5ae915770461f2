package ledger

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
)

func TestOperatorMoveRecordsWhoAndStartsAfresh(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	e := sampleEntry()
	e.State, e.Attempts, e.LastError, e.Reason, e.Owner = StateRejected, 3, "boom", "provider said no", "m1"
	if err := e.OperatorMove(StateSubmitted, t0, "alice", ""); !errors.Is(err, ErrBadTransition) {
		t.Fatalf("rejected → submitted by an operator: %v", err)
	}
	if err := e.OperatorMove(StateCreated, t0, "alice (cli)", "resubmit: asset fixed"); err != nil {
		t.Fatal(err)
	}
	last := e.History[len(e.History)-1]
	if e.State != StateCreated || last.By != "alice (cli)" || last.Note != "resubmit: asset fixed" || !last.At.Equal(t0) {
		t.Fatalf("state %s, last transition %+v", e.State, last)
	}
	if e.Attempts != 0 || e.LastError != "" || e.Reason != "" || e.Owner != "" || !e.LeaseUntil.IsZero() {
		t.Errorf("the old file's bookkeeping survived: %+v", e)
	}
	if m := e.TakeMoves(); len(m) != 1 || m[0].From != StateRejected || m[0].To != StateCreated {
		t.Errorf("moves %+v", m)
	}
	if err := e.OperatorMove(StateAbandoned, t0, "bob", "x"); !errors.Is(err, ErrBadTransition) {
		t.Errorf("an entry on its way again was abandoned: %v", err)
	}
}

// TestReplayLogIsCreatedOnceThenCAS: the replay log and its key index are created once; a second creator is
// told, and changes are compare-and-set.
func TestReplayLogIsCreatedOnceThenCAS(t *testing.T) {
	s, _ := testStore(t)
	ctx := context.Background()
	r := Replay{DeadLetter: "dlq-7", Stage: "ingest", Reason: "unknown_product", Kind: "event", Key: "(/src, e-1)",
		IndexKey: ReplayedEventKey("/src", "e-1"), Target: "usage.events.3", State: ReplayStarted,
		Actor: Actor{Name: "alice", Via: "cli"}, Started: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	rev, err := s.PutReplay(ctx, r, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutReplay(ctx, r, 0); !errors.Is(err, bus.ErrExists) {
		t.Fatalf("a second log of one dead letter: %v, want exists", err)
	}
	r.State, r.Seq = ReplayDone, 42
	if _, err := s.PutReplay(ctx, r, rev+7); !errors.Is(err, bus.ErrRevisionMismatch) {
		t.Fatalf("a stale update: %v", err)
	}
	if _, err := s.PutReplay(ctx, r, rev); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.Replay(ctx, "dlq-7")
	if err != nil || got.State != ReplayDone || got.Seq != 42 || got.Actor.String() != "alice (cli)" {
		t.Fatalf("replay %+v, %v", got, err)
	}
	if all, err := s.Replays(ctx); err != nil || len(all) != 1 {
		t.Fatalf("replays %+v, %v", all, err)
	}
	if _, _, err := s.Replay(ctx, "dlq-8"); !errors.Is(err, bus.ErrNotFound) {
		t.Fatalf("a dead letter never replayed: %v", err)
	}
	if _, err := s.PutReplayIndex(ctx, r.IndexKey, ReplayIndex{DeadLetter: "dlq-7"}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutReplayIndex(ctx, r.IndexKey, ReplayIndex{DeadLetter: "dlq-9"}, 0); !errors.Is(err, bus.ErrExists) {
		t.Fatalf("a second replay of one event claimed its key: %v", err)
	}
}

// TestActionLogKeepsEveryConcurrentAction: operators appending at once all end in the log.
func TestActionLogKeepsEveryConcurrentAction(t *testing.T) {
	s, _ := testStore(t)
	ctx := context.Background()
	start := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			a := Action{At: start, Actor: Actor{Name: string(rune('a' + i))}, Action: "retry", Target: "file.P.C.x"}
			if err := s.AppendAction(ctx, "P", "C", start, a); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	list, err := s.Actions(ctx, "P", "C", start)
	if err != nil || len(list) != 6 {
		t.Fatalf("actions %+v, %v", list, err)
	}
	if none, err := s.Actions(ctx, "P", "C", start.Add(time.Hour)); err != nil || len(none) != 0 {
		t.Fatalf("a period without actions: %+v, %v", none, err)
	}
}

func TestDeleteEntryIsCAS(t *testing.T) {
	s, _ := testStore(t)
	ctx := context.Background()
	e := sampleEntry()
	rev, err := s.Create(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, e.Key, 0); err == nil {
		t.Fatal("a delete without a revision was done")
	}
	if err := s.Delete(ctx, e.Key, rev+1); !errors.Is(err, bus.ErrRevisionMismatch) {
		t.Fatalf("a stale delete: %v", err)
	}
	if err := s.Delete(ctx, e.Key, rev); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(ctx, e.Key); !errors.Is(err, bus.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}
