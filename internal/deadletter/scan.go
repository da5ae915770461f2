package deadletter

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// replayEnv is what a replay of events needs to know once: P, the reporting start, and for each partition
// concerned where the letters' keys occur in USAGE_EVENTS and which occurrences the aggregator refused.
type replayEnv struct {
	partitions int
	start      time.Time
	scans      map[int]*partitionScan
}

// occurrence is a packet of USAGE_EVENTS holding a key.
type occurrence struct {
	seq      uint64
	at       string // stream time, RFC 3339
	replayOf string // the letter whose replay published it ("" for a producer's packet)
}

// partitionScan is where keys occur in one partition, and the (key, sequence) pairs the aggregator
// dead-lettered there.
type partitionScan struct {
	p            int
	occurs       map[events.Key][]occurrence
	deadLettered map[keySeq]bool
}

type keySeq struct {
	key events.Key
	seq uint64
}

// newReplayEnv prepares the replay of letters: for their events, one scan per partition.
func (s *Service) newReplayEnv(ctx context.Context, letters []Letter) (*replayEnv, error) {
	env := &replayEnv{scans: map[int]*partitionScan{}}
	want := map[int]map[events.Key]bool{}
	for i := range letters {
		if l := &letters[i]; l.Kind == KindEvent && l.State.Open() {
			if env.partitions == 0 {
				if err := s.eventBasics(ctx, env); err != nil {
					return nil, err
				}
			}
			p := events.Partition(l.Event.Subject, env.partitions)
			if want[p] == nil {
				want[p] = map[events.Key]bool{}
			}
			want[p][l.Event.Key()] = true
		}
	}
	for p, keys := range want {
		sc, err := s.scanPartition(ctx, p, keys)
		if err != nil {
			return nil, err
		}
		env.scans[p] = sc
	}
	return env, nil
}

// eventBasics reads P and the reporting start (USAGE_EVENTS' creation), as ingest uses them.
func (s *Service) eventBasics(ctx context.Context, env *replayEnv) error {
	p, err := s.streams.RecordedPartitions(ctx)
	if err != nil {
		return fmt.Errorf("deadletter: partitions: %w", err)
	}
	created, err := s.streams.StreamCreated(ctx, bus.StreamEvents)
	if err != nil {
		return fmt.Errorf("deadletter: reporting start: %w", err)
	}
	env.partitions, env.start = p, created
	return nil
}

// scanPartition finds where keys occur in partition p's retained packets, and which (key, sequence) pairs
// the aggregator dead-lettered in p.
func (s *Service) scanPartition(ctx context.Context, p int, keys map[events.Key]bool) (*partitionScan, error) {
	sc := &partitionScan{p: p, occurs: map[events.Key][]occurrence{}, deadLettered: map[keySeq]bool{}}
	ids := prefilter(keys)
	err := s.streams.Read(ctx, bus.StreamEvents, bus.ReadOptions{Filters: []string{subjects.Events(p)}}, func(m bus.Msg) error {
		if m.Header.Get(events.HeaderKind) != events.KindEvents || !containsAny(m.Data, ids) {
			return nil
		}
		evs, err := events.DecodePacket(m.Data)
		if err != nil {
			return nil // the aggregator dead-lettered it whole (bad_json): it counted nothing
		}
		for i := range evs {
			if k := evs[i].Key(); keys[k] {
				sc.occurs[k] = append(sc.occurs[k], occurrence{seq: m.Seq, at: m.Time.UTC().Format(timeLayout),
					replayOf: m.Header.Get(events.HeaderReplay)})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("deadletter: scan %s: %w", subjects.Events(p), err)
	}
	return sc, s.scanRefused(ctx, sc, keys)
}

const timeLayout = "2006-01-02T15:04:05Z07:00"

// scanRefused notes the (key, sequence) pairs the aggregator dead-lettered in the scan's partition.
func (s *Service) scanRefused(ctx context.Context, sc *partitionScan, keys map[events.Key]bool) error {
	err := s.streams.Read(ctx, bus.StreamAgg, bus.ReadOptions{Filters: []string{subjects.AggDeadLetters(sc.p)}}, func(m bus.Msg) error {
		lettersOf(bus.StreamAgg, m, s.catalog, func(l Letter) {
			if l.Kind == KindEvent && keys[l.Event.Key()] {
				sc.deadLettered[keySeq{l.Event.Key(), l.FromSeq}] = true
			}
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("deadletter: scan %s: %w", subjects.AggDeadLetters(sc.p), err)
	}
	return nil
}

// prefilter is the ids to look for in a packet's bytes before decoding it, or nil (decode every packet) when
// an id may be escaped in JSON (anything but printable ASCII other than a quote or a backslash).
func prefilter(keys map[events.Key]bool) [][]byte {
	ids := make([][]byte, 0, len(keys))
	for k := range keys {
		for _, c := range []byte(k.ID) {
			if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return nil
			}
		}
		ids = append(ids, []byte(k.ID))
	}
	return ids
}

// containsAny reports whether data holds one of the ids (a cheap test before decoding a packet); with no ids
// (no prefilter) it says yes.
func containsAny(data []byte, ids [][]byte) bool {
	if ids == nil {
		return true
	}
	for _, id := range ids {
		if bytes.Contains(data, id) {
			return true
		}
	}
	return false
}

// where describes an occurrence for an operator.
func (o occurrence) where(p int) string {
	s := subjects.Events(p) + " seq " + strconv.FormatUint(o.seq, 10) + " (stored " + o.at + ")"
	if o.replayOf != "" {
		s += ", replayed from " + o.replayOf
	}
	return s
}
