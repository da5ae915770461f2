package deadletter

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// Count is how many letters of one stage and reason a listing found, and how many of them are open.
type Count struct {
	Stage  string        `json:"stage"`
	Reason events.Reason `json:"reason"`
	Total  int           `json:"total"`
	Open   int           `json:"open"`
}

// Listing is the letters a filter selected, oldest first, with their counts by stage × reason.
type Listing struct {
	Letters []Letter `json:"letters"`
	Counts  []Count  `json:"counts"`
}

// Open is how many of the listed letters are open.
func (l *Listing) Open() int {
	n := 0
	for _, c := range l.Counts {
		n += c.Open
	}
	return n
}

// List reads the dead letters f selects from both places, with their replay states.
func (s *Service) List(ctx context.Context, f Filter) (*Listing, error) {
	replays, err := s.replayLogs(ctx)
	if err != nil {
		return nil, err
	}
	var letters []Letter
	for _, r := range f.reads() {
		if err := s.readLetters(ctx, r, func(l Letter) {
			if x, ok := replays[l.ID]; ok {
				l.Replay = &x
			}
			l.State = stateOf(l.Replay)
			if f.match(&l) {
				letters = append(letters, l)
			}
		}); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(letters, func(a, b Letter) int { return a.At.Compare(b.At) })
	return &Listing{Letters: letters, Counts: countLetters(letters)}, nil
}

// replayLogs reads every replay log, by dead letter.
func (s *Service) replayLogs(ctx context.Context) (map[string]ledger.Replay, error) {
	all, err := s.ledger.Replays(ctx)
	if err != nil {
		return nil, fmt.Errorf("deadletter: replay logs: %w", err)
	}
	out := make(map[string]ledger.Replay, len(all))
	for _, r := range all {
		out[r.DeadLetter] = r
	}
	return out, nil
}

// readLetters reads the letters of one read and hands each to fn.
func (s *Service) readLetters(ctx context.Context, r read, fn func(Letter)) error {
	o := bus.ReadOptions{Filters: []string{r.filter}, StartTime: r.since}
	err := s.streams.Read(ctx, r.stream, o, func(m bus.Msg) error {
		m.Header = m.Header.Clone()
		return s.lettersOf(r.stream, m, fn)
	})
	if err != nil && !errors.Is(err, bus.ErrStreamNotFound) {
		return fmt.Errorf("deadletter: read %s %s: %w", r.stream, r.filter, err)
	}
	return nil
}

// lettersOf decodes the letters of one stored message: one in USAGE_DLQ, a JSON line each in USAGE_AGG. A
// line that is not a dead letter is reported as one (reason bad_json), so that nothing stored is hidden.
func (s *Service) lettersOf(stream string, m bus.Msg, fn func(Letter)) error {
	if stream == bus.StreamDLQ {
		fn(s.decodeLetter(stream, dlqID(m.Seq), m, 0, m.Data))
		return nil
	}
	line := 0
	for raw := range bytes.Lines(m.Data) {
		if raw = bytes.TrimSpace(raw); len(raw) == 0 {
			continue
		}
		fn(s.decodeLetter(stream, aggID(m.Seq, line), m, line, raw))
		line++
	}
	return nil
}

func (s *Service) decodeLetter(stream, id string, m bus.Msg, line int, raw []byte) Letter {
	var dl events.DeadLetter
	if err := json.Unmarshal(raw, &dl); err != nil {
		dl = events.DeadLetter{Stage: "unknown", Reason: events.ReasonBadJSON, At: m.Time,
			Message: fmt.Sprintf("not a dead letter: %v", err)}
		dl.SetPayload(raw)
	}
	l := newLetter(id, m, line, &dl, s.catalog)
	l.Stream = stream
	return l
}

// Show reads one letter by id, with its replay log; bus.ErrNotFound when nothing is stored there.
func (s *Service) Show(ctx context.Context, id string) (*Letter, error) {
	stream, seq, line, err := ParseID(id)
	if err != nil {
		return nil, err
	}
	m, err := s.streams.GetMsg(ctx, stream, seq)
	if err != nil {
		return nil, fmt.Errorf("deadletter: %s: %w", id, err)
	}
	var found *Letter
	_ = s.lettersOf(stream, m, func(l Letter) {
		if l.ID == id {
			found = &l
		}
	})
	if found == nil || stream == bus.StreamAgg && found.Line != line {
		return nil, fmt.Errorf("deadletter: %s: no such letter in %s seq %d: %w", id, stream, seq, bus.ErrNotFound)
	}
	if r, _, err := s.ledger.Replay(ctx, id); err == nil {
		found.Replay = &r
	} else if !errors.Is(err, bus.ErrNotFound) {
		return nil, err
	}
	found.State = stateOf(found.Replay)
	return found, nil
}

// countLetters counts letters by stage × reason, in that order.
func countLetters(letters []Letter) []Count {
	by := map[[2]string]*Count{}
	for i := range letters {
		l := &letters[i]
		k := [2]string{l.Stage, string(l.Reason)}
		if by[k] == nil {
			by[k] = &Count{Stage: l.Stage, Reason: l.Reason}
		}
		by[k].Total++
		if l.State.Open() {
			by[k].Open++
		}
	}
	out := make([]Count, 0, len(by))
	for _, c := range by {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b Count) int {
		return cmp.Or(cmp.Compare(a.Stage, b.Stage), cmp.Compare(a.Reason, b.Reason))
	})
	return out
}
