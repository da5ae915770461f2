package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
)

// Action is one thing an operator did to a period's files (retry, resubmit, abandon, a replay into it), kept
// in the period's action log at ActionsKey.
type Action struct {
	At      time.Time `json:"at"`
	Actor   Actor     `json:"actor"`
	Action  string    `json:"action"`
	Target  string    `json:"target"` // the ledger key acted on
	Note    string    `json:"note,omitempty"`
	Outcome string    `json:"outcome,omitempty"`
}

// MaxActions bounds a period's action log: the first action and the latest ones are kept.
const MaxActions = 200

// maxActionRaces bounds the compare-and-set retries of AppendAction.
const maxActionRaces = 16

// Actions reads the operators' actions on a period, oldest first (none: an empty list).
func (s *Store) Actions(ctx context.Context, product, contract string, start time.Time) ([]Action, error) {
	list, _, err := getValue[[]Action](ctx, s.kv, ActionsKey(product, contract, start))
	if errors.Is(err, bus.ErrNotFound) {
		return nil, nil
	}
	return list, err
}

// AppendAction adds a to the action log of a period (compare-and-set, retried when another writer won).
func (s *Store) AppendAction(ctx context.Context, product, contract string, start time.Time, a Action) error {
	key := ActionsKey(product, contract, start)
	a.At, a.Note, a.Outcome = a.At.UTC(), clip(a.Note, maxNote), clip(a.Outcome, maxNote)
	for range maxActionRaces {
		list, rev, err := getValue[[]Action](ctx, s.kv, key)
		if err != nil && !errors.Is(err, bus.ErrNotFound) {
			return err
		}
		list = append(list, a)
		if n := len(list); n > MaxActions {
			list = append(list[:1], list[n-MaxActions+1:]...)
		}
		_, err = putValue(ctx, s.kv, key, list, rev)
		if err == nil || !errors.Is(err, bus.ErrExists) && !errors.Is(err, bus.ErrRevisionMismatch) {
			return err
		}
	}
	return fmt.Errorf("ledger: action log %s: changed by others %d times in a row", key, maxActionRaces)
}
