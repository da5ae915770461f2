package lineage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregate"
	"github.com/usagepipe/usagepipe/internal/aggregator"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/deadletter"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// assignFates decides each copy's fate, in stream order, as the fold did: a copy after the committed base is
// pending; one a dead letter names is dead-lettered; one whose key an earlier counted copy is still remembered
// for (aggregate.Remembers) is a duplicate of it; otherwise it is counted. It returns the counted copy, if any
// (the first counted one; a later one counted again past the dedup horizon is noted).
func (s *Service) assignFates(ctx context.Context, p int, copies []Copy, horizon time.Duration) (*Copy, []Span, error) {
	if len(copies) == 0 {
		return nil, nil, nil
	}
	c, committed, err := aggregator.ReadCommitted(ctx, s.bus, p)
	if err != nil {
		return nil, nil, fmt.Errorf("lineage: %w", err)
	}
	dls, spans, err := s.deadLettersOf(ctx, p, copies)
	if err != nil {
		return nil, spans, err
	}
	var counted *Copy
	for i := range copies {
		cp := &copies[i]
		switch dl, last := dls[cp.Seq], counted; {
		case !committed || cp.Seq > c.Base:
			cp.Fate = FatePending
			cp.Note = fmt.Sprintf("the aggregator has committed partition %d up to seq %d", p, c.Base)
		case dl != nil:
			cp.Fate, cp.DeadLetter = FateDeadLetter, dl
		case last != nil && aggregate.Remembers(horizon, last.Arrival, cp.Arrival):
			cp.Fate, cp.DuplicateOf = FateDuplicate, last.Seq
		default:
			cp.Fate = FateCounted
			if last != nil {
				cp.Note = fmt.Sprintf("counted again: it arrived after the dedup horizon (%v) of the copy at seq %d", horizon, last.Seq)
			}
			counted = cp
		}
	}
	return firstCounted(copies), spans, nil
}

func firstCounted(copies []Copy) *Copy {
	for i := range copies {
		if copies[i].Fate == FateCounted {
			return &copies[i]
		}
	}
	return nil
}

// deadLettersOf finds the aggregator's dead letters of the copies: usage.agg.dlq.<p> read from the first
// copy's arrival (a dead letter is committed after its message arrived) until past the last copy's sequence.
// The last dead letter of the partition is looked at first: when it is older than the copies, none is read.
func (s *Service) deadLettersOf(ctx context.Context, p int, copies []Copy) (map[uint64]*DeadLetter, []Span, error) {
	out := map[uint64]*DeadLetter{}
	subject := subjects.AggDeadLetters(p)
	last, err := s.bus.LastMsg(ctx, bus.StreamAgg, subject)
	if errors.Is(err, bus.ErrNotFound) {
		return out, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("lineage: %w", err)
	}
	first, lastCopy := copies[0], copies[len(copies)-1]
	if maxDeadLetterSeq(last.Data) < first.Seq {
		return out, nil, nil
	}
	key := first.Event.Key()
	past := false
	sp, err := s.readSpan(ctx, bus.StreamAgg, subject, 0, first.Arrival.Add(-time.Second),
		func(bus.Msg) bool { return past }, func(m bus.Msg) error {
			for _, dl := range decodeDeadLetters(m.Data) {
				past = past || dl.Seq > lastCopy.Seq
				if e, ok := dl.event(); ok && e.Key() == key {
					out[dl.Seq] = &DeadLetter{ID: deadletter.LetterID(bus.StreamAgg, m.Seq, dl.line), Stream: bus.StreamAgg,
						Subject: m.Subject, Seq: m.Seq, Reason: dl.Reason, Message: dl.Message, At: dl.At}
				}
			}
			return nil
		})
	sp.Partition = p
	return out, []Span{sp}, err
}

// deadLetterLine is a dead letter as the aggregator stores it, and its line: the index among the message's
// non-empty lines that names it (deadletter.LetterID).
type deadLetterLine struct {
	events.DeadLetter
	line int
}

// event decodes the original event a dead letter holds.
func (d deadLetterLine) event() (events.Event, bool) {
	e, rej := events.DecodeEvent(d.OriginalPayload())
	return e, rej == nil
}

func decodeDeadLetters(data []byte) []deadLetterLine {
	var out []deadLetterLine
	n := 0
	for l := range bytes.Lines(data) {
		if l = bytes.TrimSpace(l); len(l) == 0 {
			continue
		}
		d := deadLetterLine{line: n}
		if json.Unmarshal(l, &d.DeadLetter) == nil {
			out = append(out, d)
		}
		n++
	}
	return out
}

func maxDeadLetterSeq(data []byte) uint64 {
	var m uint64
	for _, d := range decodeDeadLetters(data) {
		m = max(m, d.Seq)
	}
	return m
}
