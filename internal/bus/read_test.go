package bus

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// publishEvents publishes n messages round-robin over partitions 0..parts-1 with ids prefix-i.
func publishEvents(t testing.TB, c *Conn, prefix string, n, parts int) {
	t.Helper()
	msgs := make([]Msg, n)
	for i := range msgs {
		msgs[i] = eventMsg(i%parts, fmt.Sprintf("%s-%d", prefix, i), fmt.Sprintf("%s-%d", prefix, i))
	}
	if _, err := c.PublishBatch(testContext(t), msgs); err != nil {
		t.Fatal(err)
	}
}

func TestReadStopsAtTheEnd(t *testing.T) {
	_, c := setup(t)
	if msgs := readAll(t, c, StreamEvents, ReadOptions{}); len(msgs) != 0 {
		t.Fatalf("empty stream: read %d messages", len(msgs))
	}
	publishEvents(t, c, "e", 2500, 4)
	msgs := readAll(t, c, StreamEvents, ReadOptions{})
	if len(msgs) != 2500 {
		t.Fatalf("read %d messages, want 2500", len(msgs))
	}
	for i, m := range msgs {
		if m.Seq != uint64(i+1) || string(m.Data) != fmt.Sprintf("e-%d", i) || m.Time.IsZero() {
			t.Fatalf("message %d: seq %d data %s time %v", i, m.Seq, m.Data, m.Time)
		}
	}
}

func TestReadFiltersAndStartSeq(t *testing.T) {
	_, c := setup(t)
	publishEvents(t, c, "e", 100, 4)
	part1 := readAll(t, c, StreamEvents, ReadOptions{Filters: []string{SubjectEvents + ".1"}})
	if len(part1) != 25 {
		t.Fatalf("partition 1: %d messages, want 25", len(part1))
	}
	for _, m := range part1 {
		if m.Subject != SubjectEvents+".1" {
			t.Fatalf("filtered read delivered %s", m.Subject)
		}
	}
	after := readAll(t, c, StreamEvents, ReadOptions{Filters: []string{SubjectEvents + ".1"}, StartSeq: 50})
	if len(after) != 13 || after[0].Seq != 50 {
		t.Fatalf("partition 1 from seq 50: %d messages starting at %d, want 13 from 50", len(after), after[0].Seq)
	}
	all := readAll(t, c, StreamEvents, ReadOptions{Filters: []string{SubjectEvents + ".*"}})
	if len(all) != 100 {
		t.Fatalf("wildcard filter: %d messages, want 100", len(all))
	}
	two := readAll(t, c, StreamEvents, ReadOptions{Filters: []string{SubjectEvents + ".1", SubjectEvents + ".2"}})
	if len(two) != 50 || two[len(two)-1].Seq != 99 {
		t.Fatalf("two filters: %d messages, want 50 ending at 99", len(two))
	}
	none := readAll(t, c, StreamEvents, ReadOptions{Filters: []string{SubjectEvents + ".9"}})
	if len(none) != 0 {
		t.Fatalf("empty partition: %d messages", len(none))
	}
	beyond := readAll(t, c, StreamEvents, ReadOptions{StartSeq: 101})
	if len(beyond) != 0 {
		t.Fatalf("start after the end: %d messages", len(beyond))
	}
	last, err := c.GetMsg(testContext(t), StreamEvents, 100)
	if err != nil {
		t.Fatal(err)
	}
	if later := readAll(t, c, StreamEvents, ReadOptions{StartTime: last.Time.Add(1)}); len(later) != 0 {
		t.Fatalf("start after the last message's time: %d messages", len(later))
	}
	if from := readAll(t, c, StreamEvents, ReadOptions{StartTime: last.Time}); len(from) == 0 || from[len(from)-1].Seq != 100 {
		t.Fatalf("start at the last message's time: %d messages", len(from))
	}
}

func TestReadReturnsCallbackError(t *testing.T) {
	_, c := setup(t)
	publishEvents(t, c, "e", 10, 1)
	stop := errors.New("stop")
	n := 0
	err := c.Read(testContext(t), StreamEvents, ReadOptions{Follow: true}, func(m Msg) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Fatalf("err %v after %d messages, want stop after 3", err, n)
	}
}

// TestReadFollowsAcrossRestart tails the stream while the server restarts.
func TestReadFollowsAcrossRestart(t *testing.T) {
	srv, c := setup(t)
	publishEvents(t, c, "before", 50, 2)
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	got := make(chan Msg, 200)
	done := make(chan error, 1)
	go func() {
		done <- c.Read(ctx, StreamEvents, ReadOptions{Follow: true}, func(m Msg) error {
			got <- m
			return nil
		})
	}()
	var seqs []uint64
	receive := func(n int) {
		for range n {
			select {
			case m := <-got:
				seqs = append(seqs, m.Seq)
			case err := <-done:
				t.Fatalf("Read ended: %v", err)
			}
		}
	}
	receive(50)
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	publishEvents(t, c, "after", 50, 2)
	receive(50)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Read after cancel: %v", err)
	}
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("read seqs out of order at %d: %v", i, seqs)
		}
	}
}
