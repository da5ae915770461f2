package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"
)

func progressSubject(p int) string { return fmt.Sprintf("%s.progress.%d", SubjectAgg, p) }

func aggBatch(p int, tag string, records int) []Msg {
	msgs := []Msg{{Subject: progressSubject(p), Data: []byte(tag)}}
	for i := range records {
		msgs = append(msgs, Msg{Subject: fmt.Sprintf("%s.rec.PRD-1.CTR-1.20261125T000000Z.%d", SubjectAgg, p),
			Data: []byte(tag + "-" + strconv.Itoa(i))})
	}
	return msgs
}

func TestCommitAtomicFence(t *testing.T) {
	_, c := setup(t)
	ctx := testContext(t)
	last, err := c.CommitAtomic(ctx, aggBatch(3, "first", 5), 0)
	if err != nil {
		t.Fatal(err)
	}
	if last != 6 {
		t.Errorf("last seq %d, want 6", last)
	}
	progress, err := c.LastMsg(ctx, StreamAgg, progressSubject(3))
	if err != nil {
		t.Fatal(err)
	}
	// A stale owner still believes the subject is empty: rejected, nothing stored.
	if _, err := c.CommitAtomic(ctx, aggBatch(3, "stale", 5), 0); !errors.Is(err, ErrFenced) {
		t.Fatalf("stale fence: %v, want ErrFenced", err)
	}
	if seq, _ := c.LastSeq(ctx, StreamAgg); seq != 6 {
		t.Fatalf("after a fenced commit the stream's last seq is %d, want 6", seq)
	}
	// The owner that read the progress commits on top of it.
	last, err = c.CommitAtomic(ctx, aggBatch(3, "second", 2), progress.Seq)
	if err != nil {
		t.Fatal(err)
	}
	if last != 9 {
		t.Errorf("last seq %d, want 9", last)
	}
	// Other partitions are fenced independently.
	if _, err := c.CommitAtomic(ctx, aggBatch(4, "other", 1), 0); err != nil {
		t.Fatalf("commit on another partition: %v", err)
	}
	for _, m := range readAll(t, c, StreamAgg, ReadOptions{}) {
		if bytes := string(m.Data); len(bytes) >= 5 && bytes[:5] == "stale" {
			t.Errorf("fenced batch stored %s at %d", m.Data, m.Seq)
		}
	}
}

// TestCommitAtomicOneMessage: a one-message commit (a plain fenced publish) keeps the fence's contract.
func TestCommitAtomicOneMessage(t *testing.T) {
	_, c := setup(t)
	ctx := testContext(t)
	first, err := c.CommitAtomic(ctx, aggBatch(2, "one", 0), 0)
	if err != nil || first != 1 {
		t.Fatalf("first commit: seq %d, %v", first, err)
	}
	if _, err := c.CommitAtomic(ctx, aggBatch(2, "stale-one", 0), 0); !errors.Is(err, ErrFenced) {
		t.Fatalf("stale fence: %v, want ErrFenced", err)
	}
	if _, err := c.CommitAtomic(ctx, aggBatch(2, "stale-batch", 3), 0); !errors.Is(err, ErrFenced) {
		t.Fatalf("stale fence of a batch after a one-message commit: %v, want ErrFenced", err)
	}
	second, err := c.CommitAtomic(ctx, aggBatch(2, "two", 0), first)
	if err != nil || second != 2 {
		t.Fatalf("second commit: seq %d, %v", second, err)
	}
	if last, err := c.CommitAtomic(ctx, aggBatch(2, "three", 2), second); err != nil || last != 5 {
		t.Fatalf("a batch fenced on a one-message commit: last seq %d, %v", last, err)
	}
	for _, m := range readAll(t, c, StreamAgg, ReadOptions{}) {
		if bytes := string(m.Data); len(bytes) >= 5 && bytes[:5] == "stale" {
			t.Errorf("fenced commit stored %s at %d", m.Data, m.Seq)
		}
	}
}

func TestCommitAtomicIsAllOrNothing(t *testing.T) {
	_, c := setup(t)
	ctx := testContext(t)
	if _, err := c.CommitAtomic(ctx, aggBatch(1, "base", 1), 0); err != nil {
		t.Fatal(err)
	}
	// The batch's third message expects a wrong last sequence on its own subject: the whole batch fails.
	batch := aggBatch(1, "bad", 4)
	batch[3].Header = Header{"Nats-Expected-Last-Subject-Sequence": {"999"}}
	batch[3].Subject = SubjectAgg + ".mark.PRD-1.CTR-1.20261125T000000Z.1"
	if _, err := c.CommitAtomic(ctx, batch, 1); err == nil {
		t.Fatal("want the batch rejected")
	}
	if seq, _ := c.LastSeq(ctx, StreamAgg); seq != 2 {
		t.Fatalf("last seq %d after a rejected batch, want 2 (nothing of the batch stored)", seq)
	}
	if _, err := c.CommitAtomic(ctx, make([]Msg, MaxAtomicBatch+1), 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("oversized batch: %v, want ErrInvalid", err)
	}
	if _, err := c.CommitAtomic(ctx, nil, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty batch: %v, want ErrInvalid", err)
	}
}

func TestCommitAtomicFullSizeBatch(t *testing.T) {
	_, c := setup(t)
	last, err := c.CommitAtomic(testContext(t), aggBatch(0, "full", MaxAtomicBatch-1), 0)
	if err != nil {
		t.Fatal(err)
	}
	if last != MaxAtomicBatch {
		t.Errorf("last seq %d, want %d", last, MaxAtomicBatch)
	}
}

func TestCommitAtomicAmbiguousWhenServerDown(t *testing.T) {
	srv, c := setup(t)
	srv.Shutdown()
	ctx, cancel := context.WithTimeout(testContext(t), 300*time.Millisecond)
	defer cancel()
	_, err := c.CommitAtomic(ctx, aggBatch(1, "x", 1), 0)
	if !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("commit with the server down: %v, want ErrAmbiguous", err)
	}
}
