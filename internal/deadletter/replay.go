package deadletter

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// Decision is what a replay does, or would do, with a letter.
type Decision string

// Decisions.
const (
	DecisionCount     Decision = "count"     // an event its period still takes: counted on time
	DecisionAdjust    Decision = "adjust"    // an event of a closed period: an adjustment, in a supplementary file
	DecisionResubmit  Decision = "resubmit"  // a record: in the period's next supplementary file
	DecisionDuplicate Decision = "duplicate" // counted already (Detail says where): nothing published
	DecisionRefused   Decision = "refused"   // still invalid (Detail says why): nothing published, the letter stays open
	DecisionReplayed  Decision = "replayed"  // replayed before (Detail says by whom and when): nothing new
)

// publishes reports whether the decision publishes a copy.
func (d Decision) publishes() bool {
	return d == DecisionCount || d == DecisionAdjust || d == DecisionResubmit
}

// Item is the replay of one letter.
type Item struct {
	ID       string        `json:"id"`
	Stage    string        `json:"stage"`
	Reason   events.Reason `json:"reason"`
	Kind     Kind          `json:"kind"`
	Decision Decision      `json:"decision"`
	Detail   string        `json:"detail,omitempty"`
	Target   string        `json:"target,omitempty"` // where the copy goes
	Seq      uint64        `json:"seq,omitempty"`    // the copy's sequence, once published
	Executed bool          `json:"executed"`         // the decision was carried out and logged
}

// Report is a replay: the selection, who asked, and an item per letter it selected.
type Report struct {
	Execute bool         `json:"execute"`
	Filter  string       `json:"filter"`
	Actor   ledger.Actor `json:"actor"`
	Items   []Item       `json:"items"`
}

// Counts is how many items got each decision.
func (r *Report) Counts() map[Decision]int {
	out := map[Decision]int{}
	for _, it := range r.Items {
		out[it.Decision]++
	}
	return out
}

// ReplayOptions says how to replay.
type ReplayOptions struct {
	Execute bool         // act; false: a dry run that only says what would happen
	Actor   ledger.Actor // who replays (recorded in the replay log)
}

// decision is what replayOne decided for a letter, before acting.
type decision struct {
	what     Decision
	detail   string
	target   string
	indexKey string
	key      string // the event key or the record's origin id, as the log shows it
	ownSeq   uint64 // a copy an interrupted replay of this letter already published
	copy     bus.Msg
}

// StepHook, when set, is called at each crash point of an executed replay (after the log is written, the key
// claimed, the copy published, the index updated) with the step and the letter's id. Tests SIGKILL the
// process there; production code leaves it nil.
var StepHook func(step, id string)

func step(name, id string) {
	if StepHook != nil {
		StepHook(name, id)
	}
}

// Replay replays the letters f selects, in the order they were dead-lettered: a dry run that says what each
// would become, or, with o.Execute, the replay itself, at most once per letter and per key, ever. It stops
// at the first failure to read or write (what was done is in the replay logs; run it again to go on).
func (s *Service) Replay(ctx context.Context, f Filter, o ReplayOptions) (*Report, error) {
	rep := &Report{Execute: o.Execute, Filter: f.String(), Actor: o.Actor}
	if o.Execute && o.Actor.Name == "" {
		return rep, errors.New("deadletter: a replay needs an actor")
	}
	listing, err := s.List(ctx, f)
	if err != nil {
		return rep, err
	}
	env, err := s.newReplayEnv(ctx, listing.Letters)
	if err != nil {
		return rep, err
	}
	for i := range listing.Letters {
		it, err := s.replayOne(ctx, env, &listing.Letters[i], o, rep.Filter)
		rep.Items = append(rep.Items, it)
		if err != nil {
			return rep, fmt.Errorf("deadletter: replay %s: %w", listing.Letters[i].ID, err)
		}
	}
	return rep, nil
}

// replayOne decides, and with o.Execute does, the replay of one letter.
func (s *Service) replayOne(ctx context.Context, env *replayEnv, l *Letter, o ReplayOptions, filter string) (Item, error) {
	it := Item{ID: l.ID, Stage: l.Stage, Reason: l.Reason, Kind: l.Kind}
	if !l.State.Open() {
		it.Decision, it.Detail, it.Seq = DecisionReplayed, replayedDetail(l.Replay), l.Replay.Seq
		return it, nil
	}
	d, err := s.decide(ctx, env, l)
	if err != nil {
		return it, err
	}
	it.Decision, it.Detail, it.Target, it.Seq = d.what, d.detail, d.target, d.ownSeq
	if !o.Execute {
		return it, nil
	}
	return s.execute(ctx, l, d, o.Actor, filter, it)
}

// replayedDetail says who replayed a letter, when, and how it ended.
func replayedDetail(r *ledger.Replay) string {
	out := fmt.Sprintf("%s by %s at %s", r.State, r.Actor, r.Finished.Format(time.RFC3339))
	if r.Outcome != "" {
		out += ": " + r.Outcome
	}
	return out
}

// decide is the decision for an open letter.
func (s *Service) decide(ctx context.Context, env *replayEnv, l *Letter) (decision, error) {
	switch l.Kind {
	case KindEvent:
		return s.decideEvent(ctx, env, l)
	case KindRecord:
		return s.decideRecord(ctx, l)
	}
	return decision{what: DecisionRefused, detail: fmt.Sprintf("not a usage event nor a record (%s): nothing to replay", l.Reason)}, nil
}
