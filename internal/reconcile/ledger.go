package reconcile

import (
	"context"
	"errors"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
)

// Ledger is the submitter's ledger: one entry per usage file it planned.
type Ledger struct {
	Entries []*ledger.Entry
}

// ReadLedger reads every file entry of the submitter ledger (bucket usagepipe_ledger). A missing bucket is an
// empty ledger.
func ReadLedger(ctx context.Context, conn *bus.Conn) (*Ledger, error) {
	kv, err := conn.KV(ctx, bus.BucketLedger)
	if errors.Is(err, bus.ErrNotFound) {
		return &Ledger{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reconcile: ledger: %w", err)
	}
	entries, err := ledger.New(kv).Entries(ctx, ledger.FilesPrefix) // entries deleted since listed are left out
	if err != nil {
		return nil, fmt.Errorf("reconcile: ledger: %w", err)
	}
	return &Ledger{Entries: entries}, nil
}

// Moving counts the entries the submitter is still driving (not terminal).
func (l *Ledger) Moving() int {
	n := 0
	for _, e := range l.Entries {
		if !e.State.Terminal() {
			n++
		}
	}
	return n
}

// ByState counts the entries per state.
func (l *Ledger) ByState() map[ledger.State]int {
	m := map[ledger.State]int{}
	for _, e := range l.Entries {
		m[e.State]++
	}
	return m
}

// Period returns the entries of one product, contract and period.
func (l *Ledger) Period(r PeriodRef) []*ledger.Entry {
	var out []*ledger.Entry
	for _, e := range l.Entries {
		if e.Product == r.Product && e.Contract == r.Contract && PeriodKey(e.PeriodStart) == r.Period {
			out = append(out, e)
		}
	}
	return out
}
