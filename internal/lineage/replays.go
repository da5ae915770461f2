package lineage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/deadletter"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// What became of an event or record that was dead-lettered: the dead letters holding it (ingest's kept
// rejections and the submitter's, read through internal/deadletter; the aggregator's are found with the
// copies) and the replays of those letters (their logs in the ledger: who, when, how it ended, where the
// copy went). A replay's copy of an event is a packet in the event's partition: it is found by the search
// like any copy, or, when it lies outside the searched window, read at the sequence the key's replay index
// records.

// replayedCopy is the replay index of k: the letter whose replay published k's copy, and its sequence (zero
// when k was never replayed).
func (s *Service) replayedCopy(ctx context.Context, k events.Key) (ledger.ReplayIndex, error) {
	x, _, err := s.ledger.ReplayIndex(ctx, ledger.ReplayedEventKey(k.Source, k.ID))
	if err != nil && !errors.Is(err, bus.ErrNotFound) {
		return x, fmt.Errorf("lineage: replay index: %w", err)
	}
	return x, nil
}

// withReplayCopy adds the replay's copy of k (idx) to partition p's copies when it is in p and the search did
// not find it (it arrived outside the window read), noting so.
func (s *Service) withReplayCopy(ctx context.Context, a *EventAnswer, p int, k events.Key, copies []Copy, idx ledger.ReplayIndex) ([]Copy, error) {
	if idx.Seq == 0 || slices.ContainsFunc(copies, func(c Copy) bool { return c.Seq == idx.Seq }) {
		return copies, nil
	}
	m, err := s.bus.GetMsg(ctx, bus.StreamEvents, idx.Seq)
	switch {
	case errors.Is(err, bus.ErrNotFound):
		if p == 0 {
			a.Notes = append(a.Notes, fmt.Sprintf("the copy replayed from %s (seq %d) is no longer in the stream (MaxAge)", idx.DeadLetter, idx.Seq))
		}
		return copies, nil
	case err != nil:
		return nil, fmt.Errorf("lineage: replay copy: %w", err)
	case m.Subject != subjects.Events(p):
		return copies, nil
	}
	for _, l := range linesWith(m.Data, events.PacketKeyBytes(k), func(e *events.Event) bool { return e.Key() == k }) {
		copies = append(copies, Copy{Partition: p, Seq: m.Seq, Arrival: m.Time, MsgID: m.Header.Get(bus.HeaderMsgID), Line: l.n,
			Event: l.event, Replay: m.Header.Get(events.HeaderReplay)})
	}
	slices.SortStableFunc(copies, func(x, y Copy) int { return compareSeq(x.Seq, y.Seq) })
	a.Notes = append(a.Notes, fmt.Sprintf("the copy replayed from %s (partition %d seq %d) lies outside the window searched: read "+
		"at the sequence its replay index records", idx.DeadLetter, p, idx.Seq))
	return copies, nil
}

func compareSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// explainReplays adds the rejections of k ingest kept and the replays of every letter holding k.
func (s *Service) explainReplays(ctx context.Context, a *EventAnswer, cat *events.Catalog, k events.Key) error {
	kept, sp, err := s.letters(ctx, cat, deadletter.Filter{Stage: events.StageIngest, Source: k.Source, EventID: k.ID})
	a.Searched = append(a.Searched, sp)
	if err != nil {
		return err
	}
	a.Kept = kept
	ids := letterIDs(kept)
	for _, c := range a.Copies {
		if c.DeadLetter != nil {
			ids = append(ids, c.DeadLetter.ID)
		}
	}
	a.Replays, err = deadletter.Replays(ctx, s.ledger, deadletter.Query{DeadLetters: ids, Source: k.Source, ID: k.ID})
	if err != nil {
		return fmt.Errorf("lineage: %w", err)
	}
	for i := range a.Copies {
		if dl := a.Copies[i].DeadLetter; dl != nil {
			dl.State = string(deadletter.StateOf(replayOf(a.Replays, dl.ID)))
		}
	}
	return nil
}

// explainRecordReplays adds the submitter's dead letters of the record (by its origin id: a resubmission's
// too) and the replays of them and of the letter a resubmission comes from.
func (s *Service) explainRecordReplays(ctx context.Context, a *RecordAnswer, cat *events.Catalog) error {
	r := &a.Record.Record
	origin := r.OriginID()
	letters, sp, err := s.letters(ctx, cat, deadletter.Filter{Stage: events.StageSubmitter, Record: origin})
	a.Searched = append(a.Searched, sp)
	if err != nil {
		return err
	}
	a.DeadLetters = letters
	ids := letterIDs(letters)
	if r.Resubmits != "" {
		ids = append(ids, r.Resubmits)
	}
	if a.Replays, err = deadletter.Replays(ctx, s.ledger, deadletter.Query{DeadLetters: ids, Record: origin}); err != nil {
		return fmt.Errorf("lineage: %w", err)
	}
	return nil
}

// letters reads the dead letters f selects (deadletter.Letters: the stage's part of its stream, whole) and
// the span read.
func (s *Service) letters(ctx context.Context, cat *events.Catalog, f deadletter.Filter) ([]DeadLetter, Span, error) {
	sp := Span{Stream: bus.StreamDLQ, Filter: subjects.StageDeadLetters(f.Stage),
		Note: "read whole: the dead letters of stage " + f.Stage}
	l, err := deadletter.Letters(ctx, s.bus, s.ledger, cat, f)
	if err != nil {
		return nil, sp, fmt.Errorf("lineage: %w", err)
	}
	sp.Messages, sp.Complete = l.Read, true
	out := make([]DeadLetter, 0, len(l.Letters))
	for _, x := range l.Letters {
		out = append(out, DeadLetter{ID: x.ID, State: string(x.State), Stream: x.Stream, Subject: x.StoredOn, Seq: x.StoredSeq,
			Reason: x.Reason, Message: x.Message, At: x.At})
	}
	return out, sp, nil
}

func letterIDs(ls []DeadLetter) []string {
	ids := make([]string, 0, len(ls))
	for _, l := range ls {
		ids = append(ids, l.ID)
	}
	return ids
}

// replayOf is the log of letter id among logs, or nil.
func replayOf(logs []ledger.Replay, id string) *ledger.Replay {
	for i := range logs {
		if logs[i].DeadLetter == id {
			return &logs[i]
		}
	}
	return nil
}

// replayText says, for a person, what a replay did: "dlq-3 (ingest unknown_product) replayed by tester (cli)
// at …: count: … (seq 41)", with its earlier attempts.
func replayText(r ledger.Replay) string {
	when := r.Finished
	if when.IsZero() {
		when = r.Started
	}
	s := fmt.Sprintf("%s (%s %s) %s by %s at %s", r.DeadLetter, r.Stage, r.Reason, replayVerb(r.State), r.Actor, stamp(when))
	if r.Outcome != "" {
		s += ": " + r.Outcome
	}
	if n := len(r.Earlier); n > 0 {
		var refused []string
		for _, x := range r.Earlier {
			refused = append(refused, fmt.Sprintf("%s at %s: %s", x.Actor, stamp(x.Finished), x.Outcome))
		}
		s += fmt.Sprintf(" (%d earlier %s: %s)", n, plural(n, "attempt", "attempts"), strings.Join(refused, "; "))
	}
	return s
}

func replayVerb(st ledger.ReplayState) string {
	switch st {
	case ledger.ReplayDone:
		return "replayed"
	case ledger.ReplayDuplicate:
		return "found a duplicate"
	case ledger.ReplayRefused:
		return "refused"
	}
	return "replay started (not finished: the next replay resumes it)"
}
