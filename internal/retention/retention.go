package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregator"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/deadletter"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// Streams models what retention asks of JetStream (internal/bus.Conn): reads, purges and deletes, a
// consumer's ack floor, the first sequence since a time, and the snapshots' names.
type Streams interface {
	deadletter.Streams
	aggregator.History
	LastMsg(ctx context.Context, stream, subject string) (bus.Msg, error)
	Purge(ctx context.Context, stream, subject string, before uint64) error
	DeleteMsg(ctx context.Context, stream string, seq uint64) error
	AckFloor(ctx context.Context, stream, durable string) (uint64, error)
	SeqSince(ctx context.Context, stream string, t time.Time) (uint64, bool, error)
	SubjectCounts(ctx context.Context, stream, filter string) (map[string]uint64, error)
}

var _ Streams = (*bus.Conn)(nil)

// Options configures retention.
type Options struct {
	MinAge              time.Duration   // nothing stored less than this long ago is removed
	Catalog             *events.Catalog // the submitters' (max event ages, letters' periods)
	Partitions          int             // P
	AdjustmentsConsumer string          // the durable consumer planning supplements (its ack floor bounds adjustments)
	Log                 *slog.Logger
	Now                 func() time.Time
}

// Purge is one removal a round made, and why.
type Purge struct {
	Stream  string `json:"stream"`
	Subject string `json:"subject,omitempty"`
	Before  uint64 `json:"before,omitempty"` // messages below this sequence (0: all of the subject)
	Seq     uint64 `json:"seq,omitempty"`    // one message (dead letters)
	Why     string `json:"why"`
}

// Retainer runs retention rounds. Build it with New; it remembers the progress floors it found (they only
// rise), so later rounds read less.
type Retainer struct {
	streams Streams
	ledger  *ledger.Store
	letters *deadletter.Service
	o       Options
	floors  map[int]uint64    // progress floors found, by partition
	purged  map[string]uint64 // subject → the sequence this process purged it below (repeats are skipped)
}

// New returns a retainer over streams and the ledger.
func New(streams Streams, l *ledger.Store, o Options) (*Retainer, error) {
	if streams == nil || l == nil || o.Catalog == nil || o.Partitions < 1 || o.AdjustmentsConsumer == "" {
		return nil, errors.New("retention: New needs the streams, the ledger, the catalog, P and the adjustments consumer")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	letters, err := deadletter.New(streams, l, o.Catalog)
	if err != nil {
		return nil, fmt.Errorf("retention: %w", err)
	}
	return &Retainer{streams: streams, ledger: l, letters: letters, o: o, floors: map[int]uint64{}, purged: map[string]uint64{}}, nil
}

// Run makes one round and returns what it purged. A failure stops the round (what was purged stays purged;
// the next round goes on).
func (r *Retainer) Run(ctx context.Context) ([]Purge, error) {
	aggFloor, err := r.ageFloor(ctx, bus.StreamAgg)
	if err != nil {
		return nil, err
	}
	st, err := r.readState(ctx)
	if err != nil {
		return nil, err
	}
	var purges []Purge
	for _, step := range []func(context.Context, *state, uint64) ([]Purge, error){r.periods, r.emptyPeriods, r.progress} {
		p, err := step(ctx, st, aggFloor)
		purges = append(purges, p...)
		if err != nil {
			return purges, err
		}
	}
	p, err := r.deadLetters(ctx)
	purges = append(purges, p...)
	for _, x := range purges {
		r.o.Log.InfoContext(ctx, "retention: purged", "stream", x.Stream, "subject", x.Subject, "before", x.Before, "seq", x.Seq, "why", x.Why)
	}
	return purges, err
}

// ageFloor is the sequence of the first message of stream stored within MinAge: nothing at or above it is
// removed. With none (every message older), it is the stream's last sequence + 1.
func (r *Retainer) ageFloor(ctx context.Context, stream string) (uint64, error) {
	seq, ok, err := r.streams.SeqSince(ctx, stream, r.o.Now().Add(-r.o.MinAge))
	if err != nil {
		return 0, fmt.Errorf("retention: %s since %v: %w", stream, r.o.MinAge, err)
	}
	if ok {
		return seq, nil
	}
	last, err := r.streams.LastSeq(ctx, stream)
	if err != nil {
		return 0, fmt.Errorf("retention: %s: %w", stream, err)
	}
	return last + 1, nil
}

// wholeSubject asks purge for every message of a subject (below the age floor).
const wholeSubject = math.MaxUint64

// purge removes the messages of subject below min(before, floor), unless this process did already; it
// appends what it did to out. before 0 or 1 removes nothing.
func (r *Retainer) purge(ctx context.Context, out *[]Purge, stream, subject string, before, floor uint64, why string) error {
	before = min(before, floor)
	if before <= 1 || r.purged[subject] >= before {
		return nil
	}
	if err := r.streams.Purge(ctx, stream, subject, before); err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	r.purged[subject] = before
	*out = append(*out, Purge{Stream: stream, Subject: subject, Before: before, Why: why})
	return nil
}
