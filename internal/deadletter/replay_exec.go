package deadletter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
)

// maxRaces bounds the compare-and-set retries of one write of a replay.
const maxRaces = 8

// replicaLag is the first pause before reading a replay index again after a read that cannot be the latest
// (growing with each attempt: at most about a second in all). The ledger's bucket answers reads from any
// replica (KV direct gets): with replicas, a key this process has just written may still read as missing, or
// as its value before, for a moment.
const replicaLag = 25 * time.Millisecond

// waitReplicas pauses before attempt+1 of a read that met a replica behind a write.
func waitReplicas(ctx context.Context, attempt int) error {
	t := time.NewTimer(time.Duration(attempt+1) * replicaLag)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// execute carries out d for l, in the order that makes a replay happen at most once: the log, the key's
// claim, the publish, the index's sequence, the period's action log, the end of the log. Each step is
// recognised when a resumed replay meets it done.
func (s *Service) execute(ctx context.Context, l *Letter, d decision, actor ledger.Actor, filter string, it Item) (Item, error) {
	r, rev, err := s.startLog(ctx, l, d, actor, filter)
	if err != nil || r.State.Final() { // finished meanwhile by another replayer
		it.Decision, it.Detail, it.Seq = DecisionReplayed, replayedDetail(&r), r.Seq
		return it, err
	}
	step("logged", l.ID)
	if !d.what.publishes() {
		state := ledger.ReplayRefused
		if d.what == DecisionDuplicate {
			state = ledger.ReplayDuplicate
		}
		it.Executed = true
		return it, s.finishLog(ctx, r, rev, actor, state, string(d.what)+": "+d.detail, 0)
	}
	seq, dup, err := s.publishOnce(ctx, l, d)
	if err != nil {
		return it, err
	}
	if dup != "" {
		it.Decision, it.Detail, it.Executed = DecisionDuplicate, dup, true
		return it, s.finishLog(ctx, r, rev, actor, ledger.ReplayDuplicate, "duplicate: "+dup, 0)
	}
	if err := s.noteAction(ctx, l, actor, string(d.what), seq); err != nil {
		return it, err
	}
	it.Seq, it.Executed = seq, true
	return it, s.finishLog(ctx, r, rev, actor, ledger.ReplayDone, fmt.Sprintf("%s: %s (seq %d)", d.what, d.detail, seq), seq)
}

// publishOnce publishes l's copy unless an interrupted replay of l already did, after claiming the key (a key
// another letter's replay holds makes it a duplicate: dup says so), and records the copy's sequence in the
// key's index.
func (s *Service) publishOnce(ctx context.Context, l *Letter, d decision) (seq uint64, dup string, err error) {
	if seq = d.ownSeq; seq == 0 {
		if dup, err = s.claimKey(ctx, d.indexKey, l); err != nil || dup != "" {
			return 0, dup, err
		}
		step("claimed", l.ID)
		ack, err := s.streams.Publish(ctx, d.copy)
		if err != nil {
			return 0, "", fmt.Errorf("deadletter: publish the copy of %s: %w", l.ID, err)
		}
		seq = ack.Seq
		step("published", l.ID)
	}
	if err := s.noteSeq(ctx, d.indexKey, l.ID, seq); err != nil {
		return 0, "", err
	}
	step("indexed", l.ID)
	return seq, "", nil
}

// startLog creates the replay log of l (started), starts a new attempt of a refused one, or returns the log
// as it is when it is started (an interrupted replay, resumed) or final (finished by another replayer).
func (s *Service) startLog(ctx context.Context, l *Letter, d decision, actor ledger.Actor, filter string) (ledger.Replay, uint64, error) {
	for range maxRaces {
		r, rev, err := s.ledger.Replay(ctx, l.ID)
		switch {
		case errors.Is(err, bus.ErrNotFound):
			rev = 0
		case err != nil:
			return r, 0, fmt.Errorf("deadletter: replay log of %s: %w", l.ID, err)
		case r.State.Final(), r.State == ledger.ReplayStarted:
			return r, rev, nil
		}
		next, err := s.newAttempt(ctx, r, l, d, actor, filter)
		if err != nil {
			return r, 0, err
		}
		newRev, err := s.ledger.PutReplay(ctx, next, rev)
		if err == nil {
			return next, newRev, nil
		}
		if !errors.Is(err, bus.ErrExists) && !errors.Is(err, bus.ErrRevisionMismatch) {
			return r, 0, fmt.Errorf("deadletter: replay log of %s: %w", l.ID, err)
		}
	}
	return ledger.Replay{}, 0, fmt.Errorf("deadletter: replay log of %s: changed by others %d times in a row", l.ID, maxRaces)
}

// newAttempt is the started log of a new attempt at l, keeping earlier (refused) attempts of prev.
func (s *Service) newAttempt(ctx context.Context, prev ledger.Replay, l *Letter, d decision, actor ledger.Actor, filter string) (ledger.Replay, error) {
	r := ledger.Replay{DeadLetter: l.ID, Stage: l.Stage, Reason: string(l.Reason), Kind: string(l.Kind), Key: d.key,
		IndexKey: d.indexKey, Target: d.target, State: ledger.ReplayStarted, Actor: actor, Filter: filter,
		Started: s.now().UTC(), Earlier: prev.Earlier}
	if prev.DeadLetter != "" {
		r.Earlier = append(r.Earlier, ledger.Attempt{Actor: prev.Actor, Started: prev.Started, Finished: prev.Finished,
			Outcome: prev.Outcome})
	}
	if d.target != "" {
		stream := bus.StreamEvents
		if l.Kind == KindRecord {
			stream = bus.StreamAgg
		}
		floor, err := s.streams.LastSeq(ctx, stream)
		if err != nil {
			return r, fmt.Errorf("deadletter: replay of %s: %w", l.ID, err)
		}
		r.Floor = floor
	}
	return r, nil
}

// finishLog ends the attempt r (read at rev) in state with its outcome; a replay another process finished
// meanwhile is left as it is.
func (s *Service) finishLog(ctx context.Context, r ledger.Replay, rev uint64, actor ledger.Actor, state ledger.ReplayState, outcome string, seq uint64) error {
	r.State, r.Outcome, r.Seq, r.Finished = state, outcome, seq, s.now().UTC()
	if actor != r.Actor {
		r.Outcome += " (finished by " + actor.String() + ")"
	}
	_, err := s.ledger.PutReplay(ctx, r, rev)
	if errors.Is(err, bus.ErrRevisionMismatch) {
		if now, _, rerr := s.ledger.Replay(ctx, r.DeadLetter); rerr == nil && now.State.Final() {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("deadletter: finish the replay log of %s: %w", r.DeadLetter, err)
	}
	return nil
}

// claimKey makes the key's replay index name l: created, or moved to l when l is the refusal of the copy
// it records. When it names another letter, dup says so.
func (s *Service) claimKey(ctx context.Context, key string, l *Letter) (dup string, err error) {
	for attempt := range maxRaces {
		x, rev, err := s.ledger.ReplayIndex(ctx, key)
		switch {
		case errors.Is(err, bus.ErrNotFound):
			rev = 0
		case err != nil:
			return "", fmt.Errorf("deadletter: replay index %s: %w", key, err)
		case x.DeadLetter == l.ID:
			return "", nil
		case !refusedCopy(l, x):
			return fmt.Sprintf("replayed already from %s (its copy at seq %d)", x.DeadLetter, x.Seq), nil
		}
		_, err = s.ledger.PutReplayIndex(ctx, key, ledger.ReplayIndex{DeadLetter: l.ID, At: s.now().UTC()}, rev)
		if err == nil {
			return "", nil
		}
		if !errors.Is(err, bus.ErrExists) && !errors.Is(err, bus.ErrRevisionMismatch) {
			return "", fmt.Errorf("deadletter: replay index %s: %w", key, err)
		}
		if err := waitReplicas(ctx, attempt); err != nil { // another writer, or a read behind a write
			return "", err
		}
	}
	return "", fmt.Errorf("deadletter: replay index %s: changed by others %d times in a row", key, maxRaces)
}

// noteSeq records the copy's sequence in the key's index, which names id. The index was claimed before the
// copy was published, so a read that finds no index is a replica behind that write: it is read again.
func (s *Service) noteSeq(ctx context.Context, key, id string, seq uint64) error {
	for attempt := range maxRaces {
		x, rev, err := s.ledger.ReplayIndex(ctx, key)
		switch {
		case errors.Is(err, bus.ErrNotFound):
		case err != nil:
			return fmt.Errorf("deadletter: replay index %s: %w", key, err)
		case x.DeadLetter != id || x.Seq == seq:
			return nil
		default:
			x.Seq = seq
			if _, err = s.ledger.PutReplayIndex(ctx, key, x, rev); !errors.Is(err, bus.ErrRevisionMismatch) {
				return err
			}
		}
		if err := waitReplicas(ctx, attempt); err != nil {
			return err
		}
	}
	return fmt.Errorf("deadletter: replay index %s: not found or changed by others %d times in a row", key, maxRaces)
}

// noteAction adds the replay to the action log of the letter's period, when it has one.
func (s *Service) noteAction(ctx context.Context, l *Letter, actor ledger.Actor, what string, seq uint64) error {
	if l.Product == "" || l.Contract == "" || l.PeriodStart.IsZero() {
		return nil
	}
	a := ledger.Action{At: s.now(), Actor: actor, Action: "replay", Target: l.ID,
		Outcome: fmt.Sprintf("%s (%s %s), copy at seq %d", what, l.Stage, l.Reason, seq)}
	if err := s.ledger.AppendAction(ctx, l.Product, l.Contract, l.PeriodStart, a); err != nil {
		return fmt.Errorf("deadletter: action log of %s: %w", l.ID, err)
	}
	return nil
}
