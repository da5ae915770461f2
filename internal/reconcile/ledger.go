package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/submitter"
)

// ledgerFilePrefix is the prefix of the submitter ledger's file entries (internal/submitter FileID.Key).
const ledgerFilePrefix = "file."

// Ledger is the submitter's ledger: one entry per usage file it planned.
type Ledger struct {
	Entries []*submitter.Entry
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
	keys, err := kv.Keys(ctx, ledgerFilePrefix)
	if err != nil {
		return nil, fmt.Errorf("reconcile: ledger: %w", err)
	}
	l := &Ledger{}
	for _, k := range keys {
		e, err := kv.Get(ctx, k)
		if errors.Is(err, bus.ErrNotFound) {
			continue // deleted since it was listed
		}
		if err != nil {
			return nil, fmt.Errorf("reconcile: ledger: %w", err)
		}
		var entry submitter.Entry
		if err := json.Unmarshal(e.Value, &entry); err != nil {
			return nil, fmt.Errorf("reconcile: ledger entry %s: %w", k, err)
		}
		l.Entries = append(l.Entries, &entry)
	}
	return l, nil
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
func (l *Ledger) ByState() map[submitter.State]int {
	m := map[submitter.State]int{}
	for _, e := range l.Entries {
		m[e.State]++
	}
	return m
}

// Period returns the entries of one product, contract and period.
func (l *Ledger) Period(r PeriodRef) []*submitter.Entry {
	var out []*submitter.Entry
	for _, e := range l.Entries {
		if e.Product == r.Product && e.Contract == r.Contract && PeriodKey(e.PeriodStart) == r.Period {
			out = append(out, e)
		}
	}
	return out
}
