package lineage

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// readSpan reads filter of stream from start (a sequence, else a time; zero: the first message kept) and calls
// fn for each message until stop reports true for one (not handed to fn), the stream's end as of the call, or
// fn's error. It returns what was read.
func (s *Service) readSpan(ctx context.Context, stream, filter string, startSeq uint64, startTime time.Time,
	stop func(bus.Msg) bool, fn func(bus.Msg) error) (Span, error) {
	sp := Span{Stream: stream, Filter: filter, FromTime: startTime}
	o := bus.ReadOptions{Filters: []string{filter}, StartSeq: startSeq, StartTime: startTime}
	err := s.bus.Read(ctx, stream, o, func(m bus.Msg) error {
		if stop != nil && stop(m) {
			return bus.ErrStop
		}
		if sp.FirstSeq == 0 {
			sp.FirstSeq, sp.FirstAt = m.Seq, m.Time
		}
		sp.LastSeq, sp.LastAt = m.Seq, m.Time
		sp.Messages++
		return fn(m)
	})
	if err != nil {
		return sp, fmt.Errorf("lineage: read %s %s: %w", stream, filter, err)
	}
	sp.Complete = true
	return sp, nil
}

// line is one event line found in a packet.
type line struct {
	n     int // 1-based
	event events.Event
}

// linesWith returns the lines of packet data that contain needle and decode to an event keep accepts.
func linesWith(data, needle []byte, keep func(*events.Event) bool) []line {
	var out []line
	for off := 0; ; {
		i := bytes.Index(data[off:], needle)
		if i < 0 {
			return out
		}
		pos := off + i
		start := bytes.LastIndexByte(data[:pos], '\n') + 1
		end := bytes.IndexByte(data[pos:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += pos
		}
		if e, rej := events.DecodeEvent(data[start:end]); rej == nil && keep(&e) {
			out = append(out, line{n: bytes.Count(data[:start], []byte{'\n'}) + 1, event: e})
		}
		off = end
	}
}

// isPacket reports whether a USAGE_EVENTS message is an event packet (ticks carry no events).
func isPacket(m bus.Msg) bool {
	return m.Header.Get(events.HeaderKind) != events.KindTick && len(m.Data) > 0
}

// window is where copies of an event can be in a partition: from (zero: the first message kept) to to, in
// arrival time; likely is where the first copy is looked for first (from likely on), early the rest.
type window struct {
	from, likely, to time.Time
}

// eventWindow bounds where an event of time t can have been stored: not before t − FutureSkew − ClockMargin
// (ingest rejects it as in_future), not after t + the largest max_event_age (too_old), nor after now. A copy
// stored before t − ClockMargin needs a producer whose clock runs ahead of ingest's: the likely part of the
// window starts there.
func eventWindow(t time.Time, cat *events.Catalog, now time.Time) window {
	if t.IsZero() {
		return window{to: now}
	}
	var age time.Duration
	for i := range cat.Products {
		if a := cat.Products[i].MaxEventAge; a > age {
			age = a
		}
	}
	if age == 0 {
		age = events.DefaultMaxEventAge
	}
	return window{from: t.Add(-events.FutureSkew - ClockMargin), likely: t.Add(-ClockMargin), to: minTime(now, t.Add(age))}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// findCopies reads partition p for lines of key k: the likely part of the window first, from its start until
// the first copy, then for later copies until CopiesWindow after it or CopiesBudget messages more (or the
// window's end); then the early part (before likely), when nothing was found or early is asked for (an
// earlier copy is then the first).
func (s *Service) findCopies(ctx context.Context, p int, k events.Key, w window, early bool) ([]Copy, []Span, error) {
	start := w.likely
	if start.IsZero() {
		start = w.from
	}
	copies, sp, err := s.readCopies(ctx, p, k, start, w.to, true)
	spans := []Span{sp}
	if err != nil || w.likely.IsZero() {
		return copies, spans, err
	}
	if len(copies) > 0 && !early {
		spans = append(spans, Span{Stream: bus.StreamEvents, Filter: subjects.Events(p), Partition: p, FromTime: w.from,
			ToTime: w.likely, Note: "not searched: a copy stored before the event's time − " + ClockMargin.String() +
				" needs a producer whose clock ran ahead of ingest's (ask for the early window to search it)"})
		return copies, spans, nil
	}
	before, sp, err := s.readCopies(ctx, p, k, w.from, w.likely, false)
	sp.ToTime = w.likely
	return append(before, copies...), append([]Span{sp}, spans...), err
}

// readCopies reads partition p for lines of key k: the likely part (likely true) from from through to, stopping
// CopiesWindow or CopiesBudget messages after the first copy; the early part from from until before to.
func (s *Service) readCopies(ctx context.Context, p int, k events.Key, from, to time.Time, likely bool) ([]Copy, Span, error) {
	needle := events.PacketKeyBytes(k)
	stopAt, budget := to, -1
	var copies []Copy
	sp, err := s.readSpan(ctx, bus.StreamEvents, subjects.Events(p), 0, from, func(m bus.Msg) bool {
		if !likely {
			return !m.Time.Before(to)
		}
		return m.Time.After(stopAt) || budget == 0
	}, func(m bus.Msg) error {
		if budget > 0 {
			budget--
		}
		if !isPacket(m) {
			return nil
		}
		for _, l := range linesWith(m.Data, needle, func(e *events.Event) bool { return e.Key() == k }) {
			copies = append(copies, Copy{Partition: p, Seq: m.Seq, Arrival: m.Time, MsgID: m.Header.Get(bus.HeaderMsgID),
				Line: l.n, Event: l.event, Replay: m.Header.Get(events.HeaderReplay)})
			if len(copies) == 1 && likely && s.opts.CopiesWindow >= 0 {
				stopAt = minTime(stopAt, m.Time.Add(s.opts.CopiesWindow))
				if s.opts.CopiesBudget > 0 {
					budget = s.opts.CopiesBudget
				}
			}
		}
		return nil
	})
	sp.Partition, sp.ToTime = p, stopAt
	if budget == 0 {
		sp.Note = fmt.Sprintf("later copies looked for in %d more messages of the partition only", s.opts.CopiesBudget)
	}
	return copies, sp, err
}

// noteRetention says when the stream no longer holds the start of a range (MaxAge removed it).
func (s *Service) noteRetention(ctx context.Context, sp *Span) error {
	st, err := s.bus.StreamState(ctx, sp.Stream)
	if err != nil {
		return fmt.Errorf("lineage: %w", err)
	}
	if st.FirstSeq > 1 && (sp.FromTime.IsZero() || sp.FromTime.Before(st.FirstTime)) {
		sp.Note = fmt.Sprintf("the stream keeps messages from seq %d (%s) on: anything stored before was removed (MaxAge %v)",
			st.FirstSeq, st.FirstTime.UTC().Format(time.RFC3339), st.MaxAge)
		sp.Complete = false
	}
	return nil
}
