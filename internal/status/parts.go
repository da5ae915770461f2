package status

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregator"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// recordsOfMark is the record count of the period's mark in a mark message (0 if absent).
func recordsOfMark(data []byte, product, contract string, start time.Time) int {
	for l := range bytes.Lines(data) {
		var m events.PartitionMark
		if json.Unmarshal(bytes.TrimSpace(l), &m) == nil && m.Product == product && m.Contract == contract && m.PeriodStart.Equal(start) {
			return m.Records
		}
	}
	return 0
}

// readParked lists the parked files and the parked revisions.
func (r *Report) readParked(ctx context.Context, l *ledger.Store, entries []*ledger.Entry) error {
	r.Parked = []Parked{}
	for _, e := range entries {
		if e.State.Parked() {
			r.Parked = append(r.Parked, Parked{Key: e.Key, State: string(e.State), Reason: e.Reason, FileID: e.FileID, Note: e.Note})
		}
	}
	keys, err := l.Keys(ctx, ledger.ParkedPrefix)
	if err != nil {
		return fmt.Errorf("status: ledger: %w", err)
	}
	for _, k := range keys {
		p, _, err := l.Parked(ctx, k)
		if errors.Is(err, bus.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("status: ledger: %w", err)
		}
		r.Parked = append(r.Parked, Parked{Key: k, State: "parked revision", Reason: p.Reason})
	}
	return nil
}

// readDeadLetters counts the dead letters of USAGE_DLQ by subject (stage and reason), and those of the
// aggregator (USAGE_AGG usage.agg.dlq.<p>) stored within the window by reason.
func (r *Report) readDeadLetters(ctx context.Context, b Bus, o Options) error {
	since := o.Now().Add(-o.DeadLetterWindow)
	counts, err := b.SubjectCounts(ctx, bus.StreamDLQ, subjects.AllDLQ)
	if err != nil {
		return fmt.Errorf("status: dead letters: %w", err)
	}
	r.DeadLetters = []DeadLetterCount{}
	for subject, n := range counts {
		stage, reason, err := subjects.ParseDeadLetters(subject)
		if err != nil {
			continue
		}
		recent, err := b.CountSince(ctx, bus.StreamDLQ, subject, since)
		if err != nil {
			return fmt.Errorf("status: dead letters: %w", err)
		}
		r.DeadLetters = append(r.DeadLetters, DeadLetterCount{Stream: bus.StreamDLQ, Stage: stage, Reason: string(reason), Total: n, Recent: recent})
	}
	agg := map[string]uint64{}
	err = b.Read(ctx, bus.StreamAgg, bus.ReadOptions{Filters: []string{subjects.AllAggDeadLetters}, StartTime: since}, func(m bus.Msg) error {
		for l := range bytes.Lines(m.Data) {
			var d events.DeadLetter
			if json.Unmarshal(bytes.TrimSpace(l), &d) == nil {
				agg[string(d.Reason)]++
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("status: aggregator dead letters: %w", err)
	}
	for reason, n := range agg {
		r.DeadLetters = append(r.DeadLetters, DeadLetterCount{Stream: bus.StreamAgg, Stage: "aggregator", Reason: reason, Total: n, Recent: n})
	}
	slices.SortFunc(r.DeadLetters, func(a, b DeadLetterCount) int {
		return cmp.Or(strings.Compare(a.Stage, b.Stage), strings.Compare(a.Reason, b.Reason))
	})
	return nil
}

// readPartitions reads every partition's owner and committed backlog.
func (r *Report) readPartitions(ctx context.Context, b Bus, o Options) error {
	owners, err := aggregator.ReadOwners(ctx, b, o.Partitions, o.Now())
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	r.Owners = make([]PartitionState, len(owners))
	for p, ow := range owners {
		st, err := backlog(ctx, b, p)
		if err != nil {
			return err
		}
		st.Owner = ow
		r.Owners[p] = st
	}
	return nil
}

// backlog is how far partition p's committed output is behind its newest message (aggregator.ReadPartitionBacklog),
// with the messages after its committed base.
func backlog(ctx context.Context, b Bus, p int) (PartitionState, error) {
	bl, err := aggregator.ReadPartitionBacklog(ctx, b, p)
	if err != nil {
		return PartitionState{}, fmt.Errorf("status: %w", err)
	}
	st := PartitionState{End: bl.End, Committed: bl.Committed, LagSeconds: bl.Lag.Seconds()}
	if bl.End <= bl.Committed {
		return st, nil
	}
	if st.Backlog, err = b.CountAfter(ctx, bus.StreamEvents, subjects.Events(p), bl.Committed); err != nil {
		return st, fmt.Errorf("status: partition %d: %w", p, err)
	}
	return st, nil
}
