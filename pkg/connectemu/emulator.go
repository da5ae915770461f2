package connectemu

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// DefaultPathPrefix is where the API is mounted unless Options.PathPrefix says otherwise: the path of
// Connect's base URL (usageapi.DefaultBaseURL).
const DefaultPathPrefix = "/public/v1"

// Options configure an Emulator. The zero value is a usable in-memory emulator with the sample catalog,
// no processing delay, a manual provider and no authentication beyond "some ApiKey Authorization header".
type Options struct {
	// Catalog is what files and records are validated against; nil means SampleCatalog().
	Catalog *Catalog
	// APIKeys are the accepted API keys, written with or without the "ApiKey " prefix; requests must send
	// "Authorization: ApiKey <key>". Empty: any "ApiKey …" header is accepted.
	APIKeys []string
	// ProviderAPIKeys, when set, are the only keys allowed provider operations (accept, reject, close,
	// approve-all, reprocess, reconciliations, record status and close, chunks, rules); APIKeys then only
	// carry vendor powers. Empty: every accepted key has both roles.
	ProviderAPIKeys []string
	// ProcessingDelay is how long an uploaded workbook stays in processing. Zero is allowed.
	ProcessingDelay time.Duration
	// Provider is what the emulated provider does with submitted (pending) files.
	Provider ProviderPolicy
	// StatePath, for Open, is the file the state is loaded from and persisted to (atomic write-rename after
	// every change, before it is answered; changes made while a write runs share the next one; workbooks in
	// StatePath+".blobs/"). New ignores it.
	StatePath string
	// PathPrefix is where the API is mounted; default DefaultPathPrefix, like the real base URL.
	PathPrefix string
	// AutoAssets makes up an asset for any asset_search_value the catalog does not know (asset.id or
	// parameter.<id>), instead of rejecting the record: for dev stacks whose subscriptions are generated.
	AutoAssets bool
	// NestedCreateAnswer makes POST /usage/files answer with the nested detail shape instead of the spec's
	// flat usage.UsageFileCreate.
	NestedCreateAnswer bool
	// Now is the clock for timestamps and ids; default time.Now. Delays always use real timers.
	Now func() time.Time
	// Logger receives one line per request and per background transition; default: discard.
	Logger *slog.Logger
}

// ProviderPolicy is the behaviour of the emulated provider (distributor) toward pending files.
type ProviderPolicy struct {
	// Auto makes the provider decide every submitted file AcceptAfter after submission. Without it files
	// stay pending until Accept/Reject (Go API) or POST …/accept|reject (HTTP).
	Auto bool
	// AcceptAfter is the decision delay in Auto mode. Zero is allowed.
	AcceptAfter time.Duration
	// RejectShare in [0,1] is the share of files rejected in Auto mode (chosen by a hash of the file id, so
	// the same file always gets the same answer); RejectNote is their rejection_note.
	RejectShare float64
	RejectNote  string
}

// Emulator is an in-process CloudBlue Connect Usage API. See the package doc for its model and concurrency
// contract.
type Emulator struct {
	opts   Options
	logger *slog.Logger
	faults *faultTable

	mu      sync.Mutex // guards everything below
	st      *store
	changed chan struct{}           // closed and replaced at every change
	busy    int                     // scheduled background steps not yet run
	parsed  map[string]parsedUpload // by file id: the workbook read at upload, until it is processed
	lagging map[string]lagging      // by file id: files a list lag hides from lists (FaultListLag)
	timers  map[*time.Timer]struct{}
	closed  bool

	saves stateWrites // of the state file, one at a time
}

// New returns an in-memory emulator. Options.StatePath is only used by Open.
func New(opts Options) *Emulator {
	opts = opts.withDefaults()
	opts.StatePath = ""
	e := &Emulator{
		opts:    opts,
		logger:  opts.Logger,
		faults:  newFaultTable(),
		st:      newStore(opts.Catalog),
		changed: make(chan struct{}),
		timers:  map[*time.Timer]struct{}{},
		parsed:  map[string]parsedUpload{},
		lagging: map[string]lagging{},
	}
	e.saves.cond = sync.NewCond(&e.saves.mu)
	return e
}

// Open returns an emulator persisted at opts.StatePath: it resumes the state found there (files, records,
// the catalog, the link-signing secret), if any, and rewrites the file after every change. Files that were
// processing are processed again; pending files of an Auto provider are decided again. A catalog in opts is
// merged over the persisted one. Without a StatePath, Open is New.
func Open(opts Options) (*Emulator, error) {
	e := New(opts)
	e.opts.StatePath = opts.StatePath
	if opts.StatePath == "" {
		return e, nil
	}
	st, err := loadStore(opts.StatePath)
	if err != nil {
		return nil, fmt.Errorf("connectemu: open %s: %w", opts.StatePath, err)
	}
	if st != nil {
		if opts.Catalog != nil {
			st.mergeCatalog(opts.Catalog)
		}
		e.mu.Lock()
		e.st = st
		e.resumeLocked()
		e.mu.Unlock()
	}
	if err := e.persist(); err != nil {
		_ = e.Close()
		return nil, err
	}
	return e, nil
}

func (o Options) withDefaults() Options {
	if o.Catalog == nil {
		o.Catalog = SampleCatalog()
	}
	if o.PathPrefix == "" {
		o.PathPrefix = DefaultPathPrefix
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Close stops every background step (processing, provider decisions). It does not wait for running ones.
func (e *Emulator) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	for t := range e.timers {
		t.Stop()
	}
	e.timers = nil
	e.busy = 0
	e.notifyLocked()
	return nil
}

// now returns the emulator's current time in UTC.
func (e *Emulator) now() time.Time { return e.opts.Now().UTC() }

// notifyLocked wakes everyone waiting for a change.
func (e *Emulator) notifyLocked() {
	close(e.changed)
	e.changed = make(chan struct{})
}

// Changed returns a channel closed at the next change of state (a request that changed something, or a
// background step). Take the channel before reading the state you want to wait on, to miss nothing.
func (e *Emulator) Changed() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.changed
}

// Settle blocks until the emulator has no background work scheduled: every uploaded workbook is processed
// and every automatic provider decision taken (in Auto mode that includes waiting AcceptAfter). It returns
// ctx's error if ctx ends first.
func (e *Emulator) Settle(ctx context.Context) error {
	return e.wait(ctx, func() bool { return e.busy == 0 })
}

// wait blocks until cond, evaluated under the lock at every change, holds.
func (e *Emulator) wait(ctx context.Context, cond func() bool) error {
	for {
		e.mu.Lock()
		ok, ch := cond(), e.changed
		e.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("connectemu: settle: %w", ctx.Err())
		}
	}
}

// schedule runs step after d in its own goroutine and counts it as background work until it has run.
// Must be called with e.mu held.
func (e *Emulator) scheduleLocked(d time.Duration, step func()) {
	if e.closed {
		return
	}
	e.busy++
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return
		}
		delete(e.timers, t)
		e.mu.Unlock()
		step()
		e.mu.Lock()
		if !e.closed {
			e.busy--
		}
		e.notifyLocked()
		e.mu.Unlock()
	})
	e.timers[t] = struct{}{}
}

// randomSecret returns n random bytes, for signing download links.
func randomSecret(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
