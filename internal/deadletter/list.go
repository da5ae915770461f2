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
	Read    int      `json:"read"` // messages read in the streams (each holds one letter or more)
}

// Open is how many of the listed letters are open.
func (l *Listing) Open() int {
	n := 0
	for _, c := range l.Counts {
		n += c.Open
	}
	return n
}

// Reader models the reads a listing makes (internal/bus.Conn): the streams that hold letters.
type Reader interface {
	Read(ctx context.Context, stream string, o bus.ReadOptions, fn func(bus.Msg) error) error
}

// List reads the dead letters f selects from both places, with their replay states.
func (s *Service) List(ctx context.Context, f Filter) (*Listing, error) {
	return Letters(ctx, s.streams, s.ledger, s.catalog, f)
}

// Letters reads the dead letters f selects from both places (through r), with their replay states from the
// ledger l, judging their periods with cat. It writes nothing: status and explain call it, Service.List is
// it. It reads the stored letters the filter's stage, reason and since narrow to, whole.
func Letters(ctx context.Context, r Reader, l *ledger.Store, cat *events.Catalog, f Filter) (*Listing, error) {
	out := &Listing{}
	var letters []Letter
	for _, rd := range f.reads() {
		rd.skip = f.cannotHold
		n, err := readLetters(ctx, r, cat, rd, func(x Letter) {
			if f.matchStored(&x) {
				letters = append(letters, x)
			}
		})
		if err != nil {
			return nil, err
		}
		out.Read += n
	}
	if err := attachReplays(ctx, l, letters); err != nil {
		return nil, err
	}
	letters = slices.DeleteFunc(letters, func(x Letter) bool { return f.Open && !x.State.Open() })
	slices.SortStableFunc(letters, func(a, b Letter) int { return a.At.Compare(b.At) })
	out.Letters, out.Counts = letters, countLetters(letters)
	return out, nil
}

// maxLogReads is the most letters whose replay logs are read one by one; for more, every log is read at once.
const maxLogReads = 32

// attachReplays sets each letter's replay log and state.
func attachReplays(ctx context.Context, l *ledger.Store, letters []Letter) error {
	logs := map[string]ledger.Replay{}
	if len(letters) > maxLogReads {
		all, err := l.Replays(ctx)
		if err != nil {
			return fmt.Errorf("deadletter: replay logs: %w", err)
		}
		for _, r := range all {
			logs[r.DeadLetter] = r
		}
	} else {
		for i := range letters {
			r, _, err := l.Replay(ctx, letters[i].ID)
			if errors.Is(err, bus.ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("deadletter: replay log of %s: %w", letters[i].ID, err)
			}
			logs[r.DeadLetter] = r
		}
	}
	for i := range letters {
		if x, ok := logs[letters[i].ID]; ok {
			letters[i].Replay = &x
		}
		letters[i].State = StateOf(letters[i].Replay)
	}
	return nil
}

// readLetters reads the letters of one read, hands each to fn, and returns how many messages it read.
func readLetters(ctx context.Context, r Reader, cat *events.Catalog, rd read, fn func(Letter)) (int, error) {
	o := bus.ReadOptions{Filters: []string{rd.filter}, StartTime: rd.since}
	n := 0
	err := r.Read(ctx, rd.stream, o, func(m bus.Msg) error {
		n++
		if rd.skip != nil && rd.skip(m.Data) {
			return nil
		}
		m.Header = m.Header.Clone()
		lettersOf(rd.stream, m, cat, fn)
		return nil
	})
	if err != nil && !errors.Is(err, bus.ErrStreamNotFound) {
		return n, fmt.Errorf("deadletter: read %s %s: %w", rd.stream, rd.filter, err)
	}
	return n, nil
}

// lettersOf decodes the letters of one stored message: one in USAGE_DLQ, a JSON line each in USAGE_AGG
// (LetterID numbers its non-empty lines from 0). A line that is not a dead letter is reported as one (reason
// bad_json), so that nothing stored is hidden.
func lettersOf(stream string, m bus.Msg, cat *events.Catalog, fn func(Letter)) {
	if stream == bus.StreamDLQ {
		fn(decodeLetter(stream, dlqID(m.Seq), m, 0, m.Data, cat))
		return
	}
	line := 0
	for raw := range bytes.Lines(m.Data) {
		if raw = bytes.TrimSpace(raw); len(raw) == 0 {
			continue
		}
		fn(decodeLetter(stream, aggID(m.Seq, line), m, line, raw, cat))
		line++
	}
}

func decodeLetter(stream, id string, m bus.Msg, line int, raw []byte, cat *events.Catalog) Letter {
	var dl events.DeadLetter
	if err := json.Unmarshal(raw, &dl); err != nil {
		dl = events.DeadLetter{Stage: "unknown", Reason: events.ReasonBadJSON, At: m.Time,
			Message: fmt.Sprintf("not a dead letter: %v", err)}
		dl.SetPayload(raw)
	}
	l := newLetter(id, m, line, &dl, cat)
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
	lettersOf(stream, m, s.catalog, func(l Letter) {
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
	found.State = StateOf(found.Replay)
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
