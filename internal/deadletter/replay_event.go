package deadletter

import (
	"context"
	"errors"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// decideEvent judges an event as ingest would now (the catalog, the clock, the reporting start), then looks
// for a counted copy of its key: in its partition (a packet the aggregator did not refuse), and in the key's
// replay index. A copy this letter's own interrupted replay published is not a duplicate: the replay
// resumes after it.
func (s *Service) decideEvent(ctx context.Context, env *replayEnv, l *Letter) (decision, error) {
	e := *l.Event
	d := decision{key: fmt.Sprintf("(%s, %s)", e.Source, e.ID), indexKey: ledger.ReplayedEventKey(e.Source, e.ID)}
	if rej := s.validate(&e, env); rej != nil {
		d.what, d.detail = DecisionRefused, rej.Error()
		return d, nil
	}
	p := events.Partition(e.Subject, env.partitions)
	d.target = subjects.Events(p)
	sc := env.scans[p]
	for _, o := range sc.occurs[e.Key()] {
		if o.replayOf == l.ID {
			d.ownSeq = o.seq
		}
	}
	if d.ownSeq == 0 {
		if o, ok := sc.counted(e.Key(), l); ok {
			d.what, d.detail = DecisionDuplicate, "counted already: "+o.where(p)
			return d, nil
		}
		if dup, err := s.replayedElsewhere(ctx, d.indexKey, l); err != nil || dup != "" {
			d.what, d.detail = DecisionDuplicate, dup
			return d, err
		}
	}
	d.what, d.detail = s.timing(&e)
	d.copy = eventCopy(l.ID, d.target, e)
	return d, nil
}

// validate is ingest's judgement of e now: the catalog's checks, and the reporting start.
func (s *Service) validate(e *events.Event, env *replayEnv) *events.Rejection {
	if rej := s.catalog.Validate(e, s.now()); rej != nil {
		return rej
	}
	return s.catalog.ClosedBeforeStart(e, env.start)
}

// counted returns an occurrence of key in the partition that the aggregator counted (or dropped as a
// duplicate of one it counted): any but the letter's own source packet and those it dead-lettered.
func (sc *partitionScan) counted(key events.Key, l *Letter) (occurrence, bool) {
	for _, o := range sc.occurs[key] {
		if l.Stage == events.StageAggregator && o.seq == l.FromSeq || sc.deadLettered[keySeq{key, o.seq}] {
			continue
		}
		return o, true
	}
	return occurrence{}, false
}

// replayedElsewhere says, when the key's replay index names another letter, that the key was replayed
// from it; "" when it names none, this letter, or a letter whose copy this one is the refusal of (the
// aggregator or Connect refused the copy again: this letter is then the one to replay).
func (s *Service) replayedElsewhere(ctx context.Context, indexKey string, l *Letter) (string, error) {
	x, _, err := s.ledger.ReplayIndex(ctx, indexKey)
	switch {
	case errors.Is(err, bus.ErrNotFound):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("deadletter: replay index %s: %w", indexKey, err)
	case x.DeadLetter == l.ID || refusedCopy(l, x):
		return "", nil
	}
	return fmt.Sprintf("replayed already from %s (its copy at seq %d)", x.DeadLetter, x.Seq), nil
}

// refusedCopy reports whether l is the refusal of the copy x records: the aggregator's (or the submitter's)
// dead letter of the very message the replay published.
func refusedCopy(l *Letter, x ledger.ReplayIndex) bool {
	return x.Seq != 0 && l.FromSeq == x.Seq && (l.Stage == events.StageAggregator || l.Stage == events.StageSubmitter)
}

// timing says whether e's period still takes it (count) or has closed (adjust: a supplementary file).
func (s *Service) timing(e *events.Event) (Decision, string) {
	p, _ := s.catalog.Product(e.Data.Product) // Validate found it
	pd := p.PeriodOf(e.Time)
	closes := p.CloseAt(pd)
	if s.now().Before(closes) {
		return DecisionCount, fmt.Sprintf("period %s is open until %s: counted in its file", pd.Key(), closes.UTC().Format(timeLayout))
	}
	return DecisionAdjust, fmt.Sprintf("period %s closed at %s: an adjustment, reported in a supplementary file", pd.Key(),
		closes.UTC().Format(timeLayout))
}

// eventCopy is the message that replays e: a one-event packet on its partition, under the letter's msg-id.
func eventCopy(id, subject string, e events.Event) bus.Msg {
	h := bus.Header{}
	h.Set(events.HeaderKind, events.KindEvents)
	h.Set(events.HeaderReplay, id)
	h.Set(bus.HeaderMsgID, "replay-"+id)
	return bus.Msg{Subject: subject, Header: h, Data: events.EncodePacket([]events.Event{e})}
}
