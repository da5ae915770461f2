package bus

import (
	"errors"
	"testing"
	"time"
)

// publishN publishes n messages on subject and returns their sequences.
func publishN(t *testing.T, c *Conn, subject string, n int) []uint64 {
	t.Helper()
	var seqs []uint64
	for range n {
		ack, err := c.Publish(testContext(t), Msg{Subject: subject, Data: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, ack.Seq)
	}
	return seqs
}

func subjectsOf(msgs []Msg) map[string]int {
	out := map[string]int{}
	for _, m := range msgs {
		out[m.Subject]++
	}
	return out
}

// TestPurgeBySubjectBelowASequence: a purge removes only the subject's messages below the sequence, and a
// purge without one the whole subject; other subjects are left alone.
func TestPurgeBySubjectBelowASequence(t *testing.T) {
	_, c := setup(t)
	ctx := testContext(t)
	a := publishN(t, c, "usage.agg.rec.P.C.20261125T000000Z.0", 3)
	publishN(t, c, "usage.agg.rec.P.C.20261126T000000Z.0", 2)
	if err := c.Purge(ctx, StreamAgg, "usage.agg.rec.P.C.20261125T000000Z.*", a[2]); err != nil {
		t.Fatal(err)
	}
	got := subjectsOf(readAll(t, c, StreamAgg, ReadOptions{}))
	if got["usage.agg.rec.P.C.20261125T000000Z.0"] != 1 || got["usage.agg.rec.P.C.20261126T000000Z.0"] != 2 {
		t.Fatalf("after purging below %d: %v", a[2], got)
	}
	if err := c.Purge(ctx, StreamAgg, "usage.agg.rec.P.C.20261126T000000Z.*", 0); err != nil {
		t.Fatal(err)
	}
	counts, err := c.SubjectCounts(ctx, StreamAgg, "usage.agg.rec.>")
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != 1 || counts["usage.agg.rec.P.C.20261125T000000Z.0"] != 1 {
		t.Fatalf("subject counts %v", counts)
	}
}

func TestDeleteMsgAndSeqSince(t *testing.T) {
	_, c := setup(t)
	ctx := testContext(t)
	seqs := publishN(t, c, "usage.dlq.submitter.connect_invalid", 3)
	if err := c.DeleteMsg(ctx, StreamDLQ, seqs[1]); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteMsg(ctx, StreamDLQ, seqs[1]); err != nil {
		t.Fatalf("deleting a message already gone: %v", err)
	}
	if _, err := c.GetMsg(ctx, StreamDLQ, seqs[1]); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted message: %v", err)
	}
	first, err := c.GetMsg(ctx, StreamDLQ, seqs[0])
	if err != nil {
		t.Fatal(err)
	}
	if seq, ok, err := c.SeqSince(ctx, StreamDLQ, first.Time); err != nil || !ok || seq != seqs[0] {
		t.Fatalf("SeqSince(first's time) = %d %v %v, want %d", seq, ok, err, seqs[0])
	}
	if _, ok, err := c.SeqSince(ctx, StreamDLQ, time.Now().Add(time.Hour)); err != nil || ok {
		t.Fatalf("SeqSince(an hour ahead) = %v %v, want none", ok, err)
	}
	if p, err := c.RecordedPartitions(ctx); err != nil || p != 16 {
		t.Fatalf("RecordedPartitions = %d %v", p, err)
	}
}
