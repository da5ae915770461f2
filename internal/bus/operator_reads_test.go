package bus

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestReadStopsEarlyOnErrStop(t *testing.T) {
	_, c := setup(t)
	ctx := testContext(t)
	for i := range 5 {
		if _, err := c.Publish(ctx, eventMsg(0, string(rune('a'+i)), "x")); err != nil {
			t.Fatal(err)
		}
	}
	var seen []uint64
	err := c.Read(ctx, StreamEvents, ReadOptions{}, func(m Msg) error {
		seen = append(seen, m.Seq)
		if m.Seq == 2 {
			return ErrStop
		}
		return nil
	})
	if err != nil || len(seen) != 2 {
		t.Fatalf("err %v, seen %v; want nil after 2", err, seen)
	}
}

func TestRequestServeAndNoResponders(t *testing.T) {
	_, c := setup(t)
	ctx := testContext(t)
	if _, err := c.Request(ctx, "usagepipe.test.echo", []byte("x")); !errors.Is(err, ErrNoResponders) {
		t.Fatalf("nobody serving: %v", err)
	}
	stop, err := c.Serve("usagepipe.test.echo", func(b []byte) []byte { return append([]byte("re:"), b...) })
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Request(ctx, "usagepipe.test.echo", []byte("x"))
	if err != nil || !bytes.Equal(got, []byte("re:x")) {
		t.Fatalf("reply %q, %v", got, err)
	}
	stop()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.Request(ctx, "usagepipe.test.echo", []byte("x"))
		if errors.Is(err, ErrNoResponders) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still served after stop: %v", err)
		}
	}
}

func TestSubjectCountsAndCountAfter(t *testing.T) {
	_, c := setup(t)
	ctx := testContext(t)
	for i, p := range []int{0, 1, 0, 2, 0} {
		if _, err := c.Publish(ctx, eventMsg(p, string(rune('a'+i)), "x")); err != nil {
			t.Fatal(err)
		}
	}
	counts, err := c.SubjectCounts(ctx, StreamEvents, SubjectEvents+".>")
	if err != nil {
		t.Fatal(err)
	}
	if counts[SubjectEvents+".0"] != 3 || counts[SubjectEvents+".1"] != 1 || len(counts) != 3 {
		t.Fatalf("counts %v", counts)
	}
	n, err := c.CountAfter(ctx, StreamEvents, SubjectEvents+".0", 1)
	if err != nil || n != 2 {
		t.Fatalf("partition 0 after seq 1: %d, %v; want 2", n, err)
	}
	st, err := c.StreamState(ctx, StreamEvents)
	if err != nil || st.Msgs != 5 || st.FirstSeq != 1 || st.LastSeq != 5 || st.MaxAge != 7*24*time.Hour {
		t.Fatalf("state %+v, %v", st, err)
	}
	if _, err := c.KV(ctx, BucketStatus); err != nil {
		t.Fatalf("status bucket: %v", err)
	}
}
