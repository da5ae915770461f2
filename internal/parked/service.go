package parked

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// Streams models the reads of USAGE_AGG a retry's checks make (internal/bus.Conn).
type Streams interface {
	Read(ctx context.Context, stream string, o bus.ReadOptions, fn func(bus.Msg) error) error
}

// Files models the Connect read a resubmission makes (pkg/usageapi.Client).
type Files interface {
	GetFile(ctx context.Context, id string) (*usageapi.FileDetail, error)
}

var (
	_ Streams = (*bus.Conn)(nil)
	_ Files   = (*usageapi.Client)(nil)
)

// ErrRefused is the sentinel of every refusal (RefusedError).
var ErrRefused = errors.New("parked: refused")

// RefusedError is an action an operator asked for that is refused, and why (the cause still visible, a
// state that does not allow it).
type RefusedError struct {
	Action, Key, Why string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s %s refused: %s", e.Action, e.Key, e.Why)
}

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

func refuse(action, key, format string, args ...any) error {
	return &RefusedError{Action: action, Key: key, Why: fmt.Sprintf(format, args...)}
}

// Service lists parked entries and carries out operators' actions on them. Build it with New.
type Service struct {
	ledger  *ledger.Store
	agg     Streams
	connect Files // nil: resubmissions are refused (they read the Connect file first)
	catalog *events.Catalog
	now     func() time.Time
}

// New returns a service over the ledger, reading USAGE_AGG through agg and Connect through connect (nil:
// no resubmission), judging causes with catalog (the one the submitters run).
func New(l *ledger.Store, agg Streams, connect Files, catalog *events.Catalog) (*Service, error) {
	if l == nil || agg == nil || catalog == nil {
		return nil, errors.New("parked: New needs the ledger, the streams and the catalog")
	}
	return &Service{ledger: l, agg: agg, connect: connect, catalog: catalog, now: time.Now}, nil
}

// StepHook, when set, is called at each crash point of an action (retry: after its log, after each delete;
// resubmit: after Connect's file is read, before the entry's move; resubmit and abandon: after the move,
// before the period's log) with the step and the key. Tests
// SIGKILL the process there; production code leaves it nil.
var StepHook func(step, key string)

func step(name, key string) {
	if StepHook != nil {
		StepHook(name, key)
	}
}

// Result is what an action did.
type Result struct {
	Action  string   `json:"action"`
	Key     string   `json:"key"`
	Outcome string   `json:"outcome"`
	Entries []string `json:"entries"` // the ledger keys it changed or deleted
}
