package aggregator

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/usagepipe/usagepipe/internal/bus"
)

// ErrFoldConfigMissing: a progress record or a snapshot names a fold configuration that is not stored (or not
// readable), so the committed messages cannot be replayed as they were folded. The runner refuses the
// partition; the worker retries it every replayGapRetry.
var ErrFoldConfigMissing = errors.New("fold configuration of committed output not found")

// foldConfigs stores the worker's current fold configuration and reads, once each, the committed ones that
// replays need. Safe for concurrent use by the runners.
type foldConfigs struct {
	conn    Bus
	current *foldConfig

	mu    sync.Mutex
	known map[string]*foldConfig
}

func newFoldConfigs(conn Bus, current *foldConfig) *foldConfigs {
	return &foldConfigs{conn: conn, current: current, known: map[string]*foldConfig{current.digest: current}}
}

// storeCurrent stores the current configuration under its digest (idempotent: the same name, the same bytes),
// before any commit names it.
func (fc *foldConfigs) storeCurrent(ctx context.Context) error {
	if err := fc.conn.PutObject(ctx, bus.BucketSnapshots, foldConfigName(fc.current.digest), fc.current.data); err != nil {
		return fmt.Errorf("store fold configuration %s: %w", fc.current.digest, err)
	}
	return nil
}

// get returns the configuration with digest; the empty digest (output committed before configurations were
// recorded) is the current one.
func (fc *foldConfigs) get(ctx context.Context, digest string) (*foldConfig, error) {
	if digest == "" {
		return fc.current, nil
	}
	fc.mu.Lock()
	c := fc.known[digest]
	fc.mu.Unlock()
	if c != nil {
		return c, nil
	}
	data, err := fc.conn.GetObject(ctx, bus.BucketSnapshots, foldConfigName(digest))
	if errors.Is(err, bus.ErrNotFound) {
		return nil, fmt.Errorf("fold configuration %s: %w: %w", digest, ErrFoldConfigMissing, err)
	}
	if err != nil {
		return nil, fmt.Errorf("read fold configuration %s: %w", digest, err)
	}
	if c, err = decodeFoldConfig(digest, data); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFoldConfigMissing, err)
	}
	fc.mu.Lock()
	fc.known[digest] = c
	fc.mu.Unlock()
	return c, nil
}
