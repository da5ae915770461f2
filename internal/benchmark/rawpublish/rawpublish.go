// Package rawpublish is the baseline the ingest and pipeline benchmarks compare against: raw JetStream async
// publishing of 256-byte messages, one message per event, each with its own Nats-Msg-Id (so the server's
// duplicate window does the same work as for ingest's packets), spread over the event partitions'
// subjects, in bus.PublishBatch windows from a few concurrent publishers, until every PubAck.
//
// Message ids and subjects are formatted before the clock starts, as the benchmarks build their request
// bodies before timing. Run is safe to call from one goroutine at a time per connection; it starts and ends
// its own publisher goroutines.
package rawpublish

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// MessageBytes is the payload size of every message.
const MessageBytes = 256

// Options shape one measurement.
type Options struct {
	Messages   int    // messages to publish
	Window     int    // messages per bus.PublishBatch call
	Publishers int    // concurrent publishers
	Partitions int    // subjects usage.events.0 … usage.events.<Partitions-1>, round robin
	IDPrefix   string // Nats-Msg-Id prefix, unique per measurement on one stream (e.g. raw-<round>)
}

func (o Options) check() error {
	if o.Messages < 1 || o.Window < 1 || o.Publishers < 1 || o.Partitions < 1 {
		return errors.New("rawpublish: every count must be positive")
	}
	return nil
}

// Run publishes o.Messages messages to USAGE_EVENTS through conn and returns the rate in messages per second.
func Run(ctx context.Context, conn *bus.Conn, o Options) (float64, error) {
	if err := o.check(); err != nil {
		return 0, err
	}
	payload := make([]byte, MessageBytes)
	rand.Read(payload)
	ids, partitions := make([]string, o.Messages), make([]string, o.Partitions)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%d", o.IDPrefix, i)
	}
	for i := range partitions {
		partitions[i] = subjects.Events(i)
	}
	var next atomic.Int64
	publish := func() error {
		for {
			from := int(next.Add(int64(o.Window))) - o.Window
			if from >= o.Messages {
				return nil
			}
			msgs := make([]bus.Msg, 0, o.Window)
			for i := from; i < min(from+o.Window, o.Messages); i++ {
				h := bus.Header{bus.HeaderMsgID: {ids[i]}}
				msgs = append(msgs, bus.Msg{Subject: partitions[i%o.Partitions], Header: h, Data: payload})
			}
			if _, err := conn.PublishBatch(ctx, msgs); err != nil {
				return fmt.Errorf("rawpublish: %w", err)
			}
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, o.Publishers)
	for w := range o.Publishers {
		wg.Go(func() { errs[w] = publish() })
	}
	wg.Wait()
	rate := float64(o.Messages) / time.Since(start).Seconds()
	return rate, errors.Join(errs...)
}
