package aggregator

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// feed is a worker's one reader of usage.events: a single ordered consumer over the subjects of the partitions
// its runners follow (the whole stream when they are all of them), started at the first sequence any of them
// still needs. It decodes each packet once, ahead of the fold (the runners fold while it decodes the next
// ones), and hands it to its partition's runner, in stream order. One consumer instead of one per partition
// matters: a filtered consumer makes the server scan the whole stream for its few messages, so P of them read
// the stream P times.
//
// A runner subscribes with the first sequence it needs and reads its inbox until it unsubscribes. Every change
// of the subscriptions restarts the consumer (after feedSettle, so that runners starting together cause one
// restart) at the lowest sequence still needed; messages a runner has already received are not delivered
// again. A failed read is retried after feedRetry; the runners just wait. The zero value is not usable; use
// newFeed.
type feed struct {
	conn       Bus
	log        *slog.Logger
	partitions int
	jobs       chan *sourceMsg // to the decoders

	mu      sync.Mutex
	subs    map[int]*feedSub
	changed chan struct{} // capacity 1: subs changed since the consumer started
}

// feedSub is one runner's subscription.
type feedSub struct {
	p     int
	next  uint64          // first sequence not delivered yet (written by the feed goroutine once subscribed)
	inbox chan *sourceMsg // read by the runner, in stream order; each message is ready once decoded
	done  chan struct{}   // closed by unsubscribe: deliveries stop
}

// sourceMsg is one source message and, once ready is closed, its packet decoded (or the reason it cannot be).
type sourceMsg struct {
	msg   bus.Msg
	dec   decoded
	ready chan struct{}
}

// decodeJobs is how many messages may wait for a decoder.
const decodeJobs = 64

const (
	// inboxSize is how many messages may wait for a runner (packets of about 30 events).
	inboxSize = 64
	// feedSettle is how long subscriptions must stay unchanged before the consumer (re)starts.
	feedSettle = 20 * time.Millisecond
	// feedRetry is the delay before a failed read is started again.
	feedRetry = time.Second
)

func newFeed(conn Bus, log *slog.Logger, partitions int) *feed {
	return &feed{conn: conn, log: log, partitions: partitions, subs: map[int]*feedSub{}, changed: make(chan struct{}, 1),
		jobs: make(chan *sourceMsg, decodeJobs)}
}

// subscribe registers partition p's runner, which needs the messages from sequence next on, and returns its
// inbox and the function that ends the subscription (to be called once the runner stops reading).
func (f *feed) subscribe(p int, next uint64) (<-chan *sourceMsg, func()) {
	sub := &feedSub{p: p, next: max(next, 1), inbox: make(chan *sourceMsg, inboxSize), done: make(chan struct{})}
	f.mu.Lock()
	if old := f.subs[p]; old != nil {
		close(old.done)
	}
	f.subs[p] = sub
	f.mu.Unlock()
	f.notify()
	var once sync.Once
	return sub.inbox, func() {
		once.Do(func() {
			close(sub.done)
			f.mu.Lock()
			if f.subs[p] == sub {
				delete(f.subs, p)
			}
			f.mu.Unlock()
			f.notify()
		})
	}
}

func (f *feed) notify() {
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

// run reads until ctx ends, restarting the consumer whenever the subscriptions change, and decodes the
// packets on GOMAXPROCS goroutines.
func (f *feed) run(ctx context.Context) {
	for range runtime.GOMAXPROCS(0) {
		go f.decoder(ctx)
	}
	for {
		if !f.settle(ctx) {
			return
		}
		subs := f.snapshot()
		if len(subs) == 0 {
			continue
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- f.read(rctx, subs) }()
		var err error
		select {
		case <-f.changed:
			f.notify() // settle again before the restart
			cancel()
			<-done
		case err = <-done:
		}
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			f.log.WarnContext(ctx, "reading the event stream failed; retrying", "err", err, "retry_in", feedRetry)
			if !sleepCtx(ctx, feedRetry) {
				return
			}
			f.notify()
		}
	}
}

// settle waits for a change of the subscriptions, then until they have not changed for feedSettle. It
// reports false when ctx ends.
func (f *feed) settle(ctx context.Context) bool {
	select {
	case <-f.changed:
	case <-ctx.Done():
		return false
	}
	for {
		select {
		case <-f.changed:
		case <-time.After(feedSettle):
			return true
		case <-ctx.Done():
			return false
		}
	}
}

// snapshot returns the current subscriptions, by subject.
func (f *feed) snapshot() map[string]*feedSub {
	f.mu.Lock()
	defer f.mu.Unlock()
	subs := make(map[string]*feedSub, len(f.subs))
	for p, s := range f.subs {
		subs[subjects.Events(p)] = s
	}
	return subs
}

// read follows the subjects of subs from the lowest sequence they need, delivering to each its messages.
func (f *feed) read(ctx context.Context, subs map[string]*feedSub) error {
	o := bus.ReadOptions{StartSeq: ^uint64(0), Follow: true}
	for subject, s := range subs {
		o.Filters = append(o.Filters, subject)
		o.StartSeq = min(o.StartSeq, s.next)
	}
	if len(subs) == f.partitions {
		o.Filters = nil // every partition: no filter, the server's cheapest path
	}
	slices.Sort(o.Filters)
	return f.conn.Read(ctx, bus.StreamEvents, o, func(m bus.Msg) error {
		s := subs[m.Subject]
		if s == nil || m.Seq < s.next {
			return nil
		}
		sm := &sourceMsg{msg: m, ready: make(chan struct{})}
		select {
		case f.jobs <- sm:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case s.inbox <- sm:
			s.next = m.Seq + 1
		case <-s.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	})
}

// decoder decodes messages until ctx ends: several run at once, and each runner takes its messages in order,
// waiting for each to be ready.
func (f *feed) decoder(ctx context.Context) {
	for {
		select {
		case sm := <-f.jobs:
			sm.dec = decode(sm.msg)
			close(sm.ready)
		case <-ctx.Done():
			return
		}
	}
}

// sleepCtx sleeps for d; false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
