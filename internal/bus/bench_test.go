package bus

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// benchPayload is a 256-byte message body.
var benchPayload = make([]byte, 256)

func benchMsgs(prefix string, n int) []Msg {
	msgs := make([]Msg, n)
	for i := range msgs {
		msgs[i] = eventMsg(i%16, prefix+strconv.Itoa(i), "")
		msgs[i].Data = benchPayload
	}
	return msgs
}

// BenchmarkPublishBatch publishes batches of 256-byte messages with distinct msg ids; msgs/s is the figure.
func BenchmarkPublishBatch(b *testing.B) {
	for _, size := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			_, c := setup(b)
			ctx := context.Background()
			n := 0
			for b.Loop() {
				if _, err := c.PublishBatch(ctx, benchMsgs(fmt.Sprintf("b%d-", n), size)); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n*size)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkPublishBatchConcurrent runs 8 callers of PublishBatch (batches of 100), as ingest does.
func BenchmarkPublishBatchConcurrent(b *testing.B) {
	_, c := setup(b)
	ctx := context.Background()
	var mu sync.Mutex
	n := 0
	b.SetParallelism(4) // 4 × GOMAXPROCS goroutines
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			id := n
			n++
			mu.Unlock()
			if _, err := c.PublishBatch(ctx, benchMsgs(fmt.Sprintf("c%d-", id), 100)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(n*100)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkRawPublishAsync is the baseline: nats.go async publish of the same messages, all futures awaited.
func BenchmarkRawPublishAsync(b *testing.B) {
	_, c := setup(b)
	const size = 1000
	n := 0
	for b.Loop() {
		futs := make([]jetstream.PubAckFuture, size)
		for i, m := range benchMsgs(fmt.Sprintf("r%d-", n), size) {
			f, err := c.js.PublishMsgAsync(m.natsMsg())
			if err != nil {
				b.Fatal(err)
			}
			futs[i] = f
		}
		for _, f := range futs {
			select {
			case <-f.Ok():
			case err := <-f.Err():
				b.Fatal(err)
			}
		}
		n++
	}
	b.ReportMetric(float64(n*size)/b.Elapsed().Seconds(), "msgs/s")
}

// fillEvents stores n 256-byte messages in the events stream.
func fillEvents(b *testing.B, c *Conn, n int) {
	for i := 0; i < n; i += 1000 {
		if _, err := c.PublishBatch(context.Background(), benchMsgs(fmt.Sprintf("f%d-", i), min(1000, n-i))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead replays a 100k-message stream with Read (Follow false); msgs/s is the figure.
func BenchmarkRead(b *testing.B) {
	const total = 100_000
	_, c := setup(b)
	fillEvents(b, c, total)
	for b.Loop() {
		n := 0
		err := c.Read(context.Background(), StreamEvents, ReadOptions{}, func(m Msg) error {
			n++
			return nil
		})
		if err != nil || n != total {
			b.Fatalf("read %d messages: %v", n, err)
		}
	}
	b.ReportMetric(float64(b.N*total)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkRawOrderedConsumer is the baseline for BenchmarkRead: nats.go's ordered consumer, same stream.
func BenchmarkRawOrderedConsumer(b *testing.B) {
	const total = 100_000
	_, c := setup(b)
	fillEvents(b, c, total)
	for b.Loop() {
		cons, err := c.js.OrderedConsumer(context.Background(), StreamEvents, jetstream.OrderedConsumerConfig{})
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan struct{})
		n := 0
		cc, err := cons.Consume(func(m jetstream.Msg) {
			if n++; n == total {
				close(done)
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		select {
		case <-done:
		case <-time.After(time.Minute):
			b.Fatal("timeout")
		}
		cc.Stop()
	}
	b.ReportMetric(float64(b.N*total)/b.Elapsed().Seconds(), "msgs/s")
}
