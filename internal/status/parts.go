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
	"github.com/usagepipe/usagepipe/internal/deadletter"
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

// readParked lists the parked files, the parked revisions a part of which is still parked without a file
// (once a retry deleted them, or an operator abandoned them, the submitter's next scan deletes the key), and
// the supplements in Connect whose base is still parked.
func (r *Report) readParked(ctx context.Context, l *ledger.Store, entries []*ledger.Entry) error {
	r.Parked, r.BaseParked = []Parked{}, []BaseParked{}
	byKey := map[string]*ledger.Entry{}
	for _, e := range entries {
		byKey[e.Key] = e
		if e.State.Parked() {
			r.Parked = append(r.Parked, Parked{Key: e.Key, State: string(e.State), Reason: e.Reason, FileID: e.FileID, Note: e.Note})
		}
	}
	r.readBaseParked(entries, byKey)
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
		if stillParked(entries, p.First()) {
			r.Parked = append(r.Parked, Parked{Key: k, State: "parked revision", Reason: p.Reason})
		}
	}
	return nil
}

// stillParked reports whether a part of first's revision is parked without a file.
func stillParked(entries []*ledger.Entry, first ledger.FileID) bool {
	prefix := ledger.RevisionPrefix(first)
	for _, e := range entries {
		if strings.HasPrefix(e.Key, prefix) && e.ParkedWithoutFile() {
			return true
		}
	}
	return false
}

// readBaseParked lists the supplements flagged as in Connect while their base was parked
// (ledger.Entry.BaseParked: "<base part key> <state>") whose base part is still rejected or failed: their
// deltas may be billed without the base. A base billed since, or abandoned on purpose, is resolved.
func (r *Report) readBaseParked(entries []*ledger.Entry, byKey map[string]*ledger.Entry) {
	for _, e := range entries {
		if e.BaseParked == "" {
			continue
		}
		baseKey, _, _ := strings.Cut(e.BaseParked, " ")
		base, ok := byKey[baseKey]
		if !ok || !base.State.Parked() {
			continue
		}
		r.BaseParked = append(r.BaseParked, BaseParked{Key: e.Key, State: string(e.State), FileID: e.FileID, Base: base.Key,
			BaseState: string(base.State)})
	}
}

// readDeadLetters counts the stored dead letters of both places (internal/deadletter's listing: USAGE_DLQ and
// the aggregator's usage.agg.dlq.<p>) by stream, stage and reason: all, open (not replayed), and of those
// within the window.
func (r *Report) readDeadLetters(ctx context.Context, b Bus, l *ledger.Store, o Options) error {
	listing, err := deadletter.Letters(ctx, b, l, o.Catalog, deadletter.Filter{})
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	since := o.Now().Add(-o.DeadLetterWindow)
	type group struct{ stream, stage, reason string }
	by := map[group]*DeadLetterCount{}
	for _, x := range listing.Letters {
		g := group{x.Stream, x.Stage, string(x.Reason)}
		c := by[g]
		if c == nil {
			c = &DeadLetterCount{Stream: g.stream, Stage: g.stage, Reason: g.reason}
			by[g] = c
		}
		recent := !x.At.Before(since)
		c.Total++
		c.Recent += count(recent)
		c.Open += count(x.State.Open())
		c.OpenRecent += count(x.State.Open() && recent)
	}
	r.DeadLetters = []DeadLetterCount{}
	for _, c := range by {
		r.DeadLetters = append(r.DeadLetters, *c)
	}
	slices.SortFunc(r.DeadLetters, func(a, b DeadLetterCount) int {
		return cmp.Or(strings.Compare(a.Stage, b.Stage), strings.Compare(a.Reason, b.Reason), strings.Compare(a.Stream, b.Stream))
	})
	return nil
}

func count(b bool) uint64 {
	if b {
		return 1
	}
	return 0
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
