package aggregator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
)

// deps is what every runner of a worker shares.
type deps struct {
	conn        Bus
	opts        Options
	ins         *instruments
	log         *slog.Logger
	incarnation string       // random id of this Worker, recorded in its progress records
	markFrom    time.Time    // creation time of USAGE_EVENTS: the first marked periods (aggregate.Config)
	configs     *foldConfigs // the current fold configuration (stored by setup) and the committed ones
	slots       commitSlots  // bounds the atomic batches open at once
	feed        *feed        // the one reader of usage.events for every runner
}

func newDeps(conn Bus, opts Options) (*deps, error) {
	opts = opts.withDefaults()
	if err := opts.Check(); err != nil {
		return nil, fmt.Errorf("aggregator: %w", err)
	}
	ins, err := newInstruments(opts)
	if err != nil {
		return nil, fmt.Errorf("aggregator: %w", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	log := opts.Logger.With("member", opts.MemberID)
	return &deps{conn: conn, opts: opts, ins: ins, log: log, incarnation: hex.EncodeToString(b),
		feed: newFeed(conn, log, opts.Partitions), slots: newCommitSlots(opts.MaxCommits)}, nil
}

// setup reads what the fold's configuration needs from the bus (the event stream's creation time, the same
// for every worker and every restart), builds the current fold configuration and stores it under its digest
// before any runner can commit under it.
func (d *deps) setup(ctx context.Context) error {
	created, err := d.conn.StreamCreated(ctx, bus.StreamEvents)
	if err != nil {
		return err
	}
	d.markFrom = created
	cur, err := newFoldConfig(d.opts.Catalog, d.opts.Partitions, d.opts.DedupHorizon, created)
	if err != nil {
		return fmt.Errorf("%w: %w", errBadFoldConfig, err)
	}
	d.configs = newFoldConfigs(d.conn, cur)
	if err := d.configs.storeCurrent(ctx); err != nil {
		return err
	}
	return nil
}
