package explain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregator"
	"github.com/usagepipe/usagepipe/internal/benchmark/harness"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/lineage"
	"github.com/usagepipe/usagepipe/internal/natsembed"
	"github.com/usagepipe/usagepipe/internal/usage"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// Options size the benchmark.
type Options struct {
	Events        int // stored events
	Subscriptions int
	PerRequest    int // events per simulated ingest request
	Partitions    int
	Explains      int // explain queries timed
	Usages        int // usage queries timed
	Out           io.Writer
}

// bench is one run.
type bench struct {
	o       Options
	conn    *bus.Conn
	cat     *events.Catalog
	times   []time.Time // event time of each request
	url     string
	packets int
}

// Run runs the benchmark on a fresh embedded JetStream in a temporary directory.
func Run(ctx context.Context, o Options) error {
	if o.Events < 1 || o.Subscriptions < 1 || o.PerRequest < 1 || o.Partitions < 1 || o.Explains < 1 || o.Usages < 1 {
		return errors.New("bench explain: every count must be positive")
	}
	dir, err := os.MkdirTemp("", "usagepipe-bench-explain-")
	if err != nil {
		return fmt.Errorf("bench explain: %w", err)
	}
	defer os.RemoveAll(dir)
	srv, err := natsembed.Start(natsembed.Options{StoreDir: dir})
	if err != nil {
		return fmt.Errorf("bench explain: %w", err)
	}
	defer srv.Shutdown()
	conn, err := bus.Connect(ctx, bus.Config{URL: srv.URL(), Name: "bench-explain", Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("bench explain: %w", err)
	}
	defer conn.Close()
	if err := conn.Provision(ctx, bus.Topology{Partitions: o.Partitions}); err != nil {
		return fmt.Errorf("bench explain: %w", err)
	}
	cat, err := harness.DailyCatalog()
	if err != nil {
		return fmt.Errorf("bench explain: %w", err)
	}
	b := &bench{o: o, conn: conn, cat: cat, url: srv.URL()}
	return b.run(ctx)
}

func (b *bench) run(ctx context.Context) error {
	if err := b.fill(ctx); err != nil {
		return err
	}
	stop, err := b.fold(ctx)
	if err != nil {
		return err
	}
	defer stop()
	explainMS, err := b.explains(ctx)
	if err != nil {
		return err
	}
	usageMS, err := b.usages(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.o.Out, "RESULT explain_p50_ms=%.1f explain_p99_ms=%.1f usage_p99_ms=%.2f\n",
		percentile(explainMS, 50), percentile(explainMS, 99), percentile(usageMS, 99))
	return nil
}

// The events of the stream are a function of their index: i's id, source and subscription are regenerated to
// query them.
func eventID(i int) string { return fmt.Sprintf("%016x-%010d", mix(uint64(i)), i) }

func source(i int) string { return "/meters/eu-" + strconv.Itoa(i%4) }

func (b *bench) subscription(i int) string {
	return "AS-" + strconv.Itoa(int(mix(uint64(i)+1)%uint64(b.o.Subscriptions)))
}

// mix is splitmix64's finalizer.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// fill publishes the events as ingest would: per request, one packet per partition, sorted by key.
func (b *bench) fill(ctx context.Context) error {
	start := time.Now()
	for first := 0; first < b.o.Events; first += b.o.PerRequest {
		at := time.Now().UTC()
		b.times = append(b.times, at)
		msgs := b.request(first, min(b.o.PerRequest, b.o.Events-first), at)
		if _, err := b.conn.PublishBatch(ctx, msgs); err != nil {
			return fmt.Errorf("bench explain: fill: %w", err)
		}
		b.packets += len(msgs)
	}
	d := time.Since(start)
	st, err := b.conn.StreamState(ctx, bus.StreamEvents)
	if err != nil {
		return fmt.Errorf("bench explain: %w", err)
	}
	fmt.Fprintf(b.o.Out, "filled USAGE_EVENTS: %d events in %d packets (%d MiB) over %d subscriptions and %d partitions in %v (%.0f events/s)\n",
		b.o.Events, b.packets, st.Bytes>>20, b.o.Subscriptions, b.o.Partitions, d.Round(time.Millisecond), float64(b.o.Events)/d.Seconds())
	return nil
}

// request builds the packets of one request of n events from index first.
func (b *bench) request(first, n int, at time.Time) []bus.Msg {
	groups := map[int][]events.Event{}
	for i := first; i < first+n; i++ {
		e := events.Event{SpecVersion: events.SpecVersion, ID: eventID(i), Source: source(i), Type: events.EventType,
			Subject: b.subscription(i), Time: at,
			Data: events.Usage{Product: harness.DailyProduct, Item: "UNITS", Quantity: events.DecimalFromInt(int64(i % 100))}}
		if i%4 == 0 {
			e.Data.Item = "PEAK"
		}
		p := events.Partition(e.Subject, b.o.Partitions)
		groups[p] = append(groups[p], e)
	}
	msgs := make([]bus.Msg, 0, len(groups))
	for p, g := range groups {
		events.SortByKey(g)
		h := bus.Header{events.HeaderKind: {events.KindEvents}, bus.HeaderMsgID: {"bench-" + strconv.Itoa(first) + "-" + strconv.Itoa(p)}}
		msgs = append(msgs, bus.Msg{Subject: subjects.Events(p), Header: h, Data: events.EncodePacket(g)})
	}
	return msgs
}

// fold runs one aggregator worker until every partition is committed to its end; it keeps running (owning
// the partitions, answering usage queries) until stop.
func (b *bench) fold(ctx context.Context) (stop func(), err error) {
	ends := make([]uint64, b.o.Partitions)
	for p := range ends {
		m, err := b.conn.LastMsg(ctx, bus.StreamEvents, subjects.Events(p))
		if err != nil && !errors.Is(err, bus.ErrNotFound) {
			return nil, fmt.Errorf("bench explain: %w", err)
		}
		ends[p] = m.Seq
	}
	w, err := aggregator.New(b.conn, aggregator.Options{MemberID: "bench", Catalog: b.cat, Partitions: b.o.Partitions,
		NoTicks: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, fmt.Errorf("bench explain: %w", err)
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- w.Run(wctx) }()
	stop = func() { cancel(); <-done }
	if err := b.waitCommitted(ctx, ends); err != nil {
		stop()
		return nil, err
	}
	fmt.Fprintf(b.o.Out, "aggregator: folded and committed in %v\n", time.Since(start).Round(time.Millisecond))
	return stop, nil
}

// waitCommitted polls the partitions' progress until each is committed to its end.
func (b *bench) waitCommitted(ctx context.Context, ends []uint64) error {
	deadline := time.Now().Add(20 * time.Minute)
	for p, end := range ends {
		for {
			c, _, err := aggregator.ReadCommitted(ctx, b.conn, p)
			if err == nil && c.Base >= end {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("bench explain: partition %d not committed to %d (last error %v)", p, end, err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// explains times ExplainEvent of random stored events (each must be found and counted) and of one never sent.
func (b *bench) explains(ctx context.Context) ([]float64, error) {
	svc, err := lineage.New(ctx, b.conn, lineage.Options{Catalog: b.cat, Partitions: b.o.Partitions})
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(7, 11))
	ms := make([]float64, 0, b.o.Explains)
	var read int
	for range b.o.Explains {
		i := rng.IntN(b.o.Events)
		q := lineage.EventQuery{Source: source(i), ID: eventID(i), Subject: b.subscription(i), Time: b.times[i/b.o.PerRequest]}
		start := time.Now()
		a, err := svc.ExplainEvent(ctx, q)
		ms = append(ms, float64(time.Since(start).Microseconds())/1000)
		if err != nil {
			return nil, fmt.Errorf("bench explain: %s: %w", q.ID, err)
		}
		if !a.Found || a.Counting == nil || a.Counting.State != lineage.CountOpen {
			return nil, fmt.Errorf("bench explain: %s: %s", q.ID, a.Summary)
		}
		read += messagesRead(a)
	}
	fmt.Fprintf(b.o.Out, "explain: %d stored events: p50 %.1f ms, p99 %.1f ms, max %.1f ms; %.0f packets of the partition read per query\n",
		len(ms), percentile(ms, 50), percentile(ms, 99), slices.Max(ms), float64(read)/float64(len(ms)))
	return ms, b.notFound(ctx, svc)
}

// notFound times the explain of an event never sent: the whole window of its partition.
func (b *bench) notFound(ctx context.Context, svc *lineage.Service) error {
	q := lineage.EventQuery{Source: "/meters/eu-0", ID: "never-sent", Subject: b.subscription(0), Time: b.times[0]}
	start := time.Now()
	a, err := svc.ExplainEvent(ctx, q)
	if err != nil {
		return fmt.Errorf("bench explain: not found: %w", err)
	}
	if a.Found {
		return errors.New("bench explain: an event never sent was found")
	}
	fmt.Fprintf(b.o.Out, "explain of an event never sent: %.1f ms (%d packets of its partition read)\n",
		float64(time.Since(start).Microseconds())/1000, messagesRead(a))
	return nil
}

// messagesRead counts the partition's messages an answer read.
func messagesRead(a *lineage.EventAnswer) int {
	n := 0
	for _, sp := range a.Searched {
		if sp.Stream == bus.StreamEvents {
			n += sp.Messages
		}
	}
	return n
}

// usages times Usage of random subscriptions.
func (b *bench) usages(ctx context.Context) ([]float64, error) {
	svc, err := usage.New(ctx, b.conn, b.o.Partitions)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(13, 17))
	ms := make([]float64, 0, b.o.Usages)
	for range b.o.Usages {
		sub := b.subscription(rng.IntN(b.o.Events))
		start := time.Now()
		a, err := svc.Usage(ctx, usage.Query{Subscription: sub})
		ms = append(ms, float64(time.Since(start).Microseconds())/1000)
		if err != nil {
			return nil, fmt.Errorf("bench explain: usage of %s: %w", sub, err)
		}
		if len(a.Open) == 0 {
			return nil, fmt.Errorf("bench explain: usage of %s: no open period", sub)
		}
	}
	fmt.Fprintf(b.o.Out, "usage: %d subscriptions: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		len(ms), percentile(ms, 50), percentile(ms, 99), slices.Max(ms))
	return ms, nil
}

// percentile is the p-th percentile (nearest rank) of xs.
func percentile(xs []float64, p float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}
