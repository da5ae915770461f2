package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"sync"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// observer follows USAGE_EVENTS and the partition marks in USAGE_AGG, from the start of the streams, to
// count the events stored and the periods still open. A period (product, contract, period) is open from its
// first stored event until every partition has marked it. It only reads, and only feeds Summary.
type observer struct {
	catalog    *events.Catalog
	partitions int

	mu     sync.Mutex
	stored int64               // events in stored packets (a packet re-sent after its dedup window counts twice)
	open   map[periodID]bool   // periods with events, not marked by every partition yet
	marked map[periodID]*marks // periods some partitions have marked
	closed map[periodID]bool   // periods every partition has marked
	filled int                 // closed periods that had records
}

// marks are the partitions that marked a period so far and the closed records they counted.
type marks struct {
	parts   map[int]struct{}
	records int
}

// periodID names one period of one product under one contract; start is the period start in Unix seconds.
type periodID struct {
	product, contract string
	start             int64
}

func newObserver(c *events.Catalog, partitions int) *observer {
	return &observer{catalog: c, partitions: partitions, open: map[periodID]bool{},
		marked: map[periodID]*marks{}, closed: map[periodID]bool{}}
}

// startObserver follows both streams until the stack stops.
func (s *Stack) startObserver(ctx context.Context, _ io.Writer) error {
	s.observer = newObserver(s.opts.Catalogs.Pipeline, s.opts.Partitions)
	conn := s.workers[ServiceIngest].conn
	follow := func(stream, filter string, fn func(bus.Msg) error) func() error {
		return func() error {
			err := conn.Read(ctx, stream, bus.ReadOptions{Filters: []string{filter}, Follow: true}, fn)
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	s.group.run("observer", follow(bus.StreamEvents, subjects.AllEvents, s.observer.onEvents))
	s.group.run("observer", follow(bus.StreamAgg, subjects.Marks.All(), s.observer.onMarks))
	return nil
}

// onEvents counts a packet's events and opens their periods (ticks carry no events).
func (o *observer) onEvents(m bus.Msg) error {
	if m.Header.Get(events.HeaderKind) != events.KindEvents {
		return nil
	}
	evs, err := events.DecodePacket(m.Data)
	if err != nil {
		return nil // not the observer's business: the aggregator dead-letters it
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := range evs {
		o.stored++
		if id, ok := o.periodOf(&evs[i]); ok && !o.closed[id] {
			o.open[id] = true
		}
	}
	return nil
}

func (o *observer) periodOf(e *events.Event) (periodID, bool) {
	p, ok := o.catalog.Product(e.Data.Product)
	if !ok {
		return periodID{}, false
	}
	contract, ok := p.ContractFor(e)
	return periodID{p.ID, contract, p.PeriodOf(e.Time).Start.Unix()}, ok
}

// onMarks notes each partition's mark; a period marked by every partition is closed.
func (o *observer) onMarks(m bus.Msg) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for line := range bytes.Lines(m.Data) {
		var mark events.PartitionMark
		if json.Unmarshal(line, &mark) == nil {
			o.mark(mark)
		}
	}
	return nil
}

func (o *observer) mark(m events.PartitionMark) {
	id := periodID{m.Product, m.Contract, m.PeriodStart.Unix()}
	if o.closed[id] {
		return
	}
	ms := o.marked[id]
	if ms == nil {
		ms = &marks{parts: map[int]struct{}{}}
		o.marked[id] = ms
	}
	if _, seen := ms.parts[m.Partition]; !seen {
		ms.parts[m.Partition] = struct{}{}
		ms.records += m.Records
	}
	if len(ms.parts) < max(m.Partitions, 1) {
		return
	}
	if ms.records > 0 || o.open[id] {
		o.filled++
	}
	o.closed[id] = true
	delete(o.open, id)
	delete(o.marked, id)
}

// periodCounts is what the observer has seen so far.
type periodCounts struct {
	EventsStored int64
	OpenPeriods  int
	Closed       int // closed periods that had events
}

func (o *observer) counts() periodCounts {
	o.mu.Lock()
	defer o.mu.Unlock()
	return periodCounts{EventsStored: o.stored, OpenPeriods: len(o.open), Closed: o.filled}
}
