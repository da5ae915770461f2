package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/reconcile"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// reconcileFlags are the reconcile command line (each also read from USAGEPIPE_<NAME>).
type reconcileFlags struct {
	set        *config.FlagSet
	nats       *config.NATS
	connectURL string
	apiKey     string
	catalog    string
	settle     time.Duration
	since      time.Duration
	assets     string
	limit      int
	timeout    time.Duration
}

func newReconcileFlags(getenv func(string) string, out io.Writer) *reconcileFlags {
	f := &reconcileFlags{set: config.NewFlagSet("reconcile", getenv)}
	f.set.SetOutput(out)
	f.set.StringVar(&f.connectURL, "connect-url", usageapi.DefaultBaseURL, "Connect API base URL")
	f.set.Secret(&f.apiKey, "connect-api-key", "Connect API key (SU-…:…); required")
	f.set.StringVar(&f.catalog, "catalog", "", "path of the product catalog (YAML); required")
	f.set.DurationVar(&f.settle, "settle", 15*time.Minute, "leave out periods that closed less than this long ago")
	f.set.DurationVar(&f.since, "since", 0, "compare only periods that started within this long before now (0: all)")
	f.set.StringVar(&f.assets, "assets", "", "JSON array of Connect assets (GET /public/v1/assets, with params) mapping the assets of parameter-searched products to the vendor's subscription ids")
	f.set.IntVar(&f.limit, "max-lines", 0, "list at most this many problems of each kind (0: all)")
	f.set.DurationVar(&f.timeout, "timeout", 10*time.Minute, "give up after this long")
	f.nats = config.AddNATS(f.set)
	return f
}

func (f *reconcileFlags) check() (*events.Catalog, error) {
	errs := []error{f.nats.Check()}
	if f.apiKey == "" {
		errs = append(errs, errors.New("--connect-api-key is required (prefer USAGEPIPE_CONNECT_API_KEY)"))
	}
	var cat *events.Catalog
	if f.catalog == "" {
		errs = append(errs, errors.New("--catalog is required"))
	} else if c, err := events.LoadCatalog(f.catalog); err != nil {
		errs = append(errs, fmt.Errorf("--catalog: %w", err))
	} else {
		cat = c
	}
	if f.settle < 0 {
		errs = append(errs, fmt.Errorf("--settle %v: must not be negative", f.settle))
	}
	if f.since < 0 {
		errs = append(errs, fmt.Errorf("--since %v: must not be negative", f.since))
	}
	return cat, errors.Join(errs...)
}

// assetMap loads --assets (nil when it is not set).
func (f *reconcileFlags) assetMap(cat *events.Catalog) (reconcile.AssetMap, error) {
	if f.assets == "" || cat == nil {
		return nil, nil
	}
	m, err := reconcile.LoadAssetMap(f.assets, cat)
	if err != nil {
		return nil, fmt.Errorf("--assets: %w", err)
	}
	return m, nil
}

// runReconcile compares the closed periods in USAGE_AGG and the submitter ledger with the records Connect
// reports (accepted and closed files), lists every difference with its asset, item and period, and fails when
// there is any.
func runReconcile(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := newReconcileFlags(getenv, stdout)
	if err := f.set.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("reconcile: %w", err)
	}
	cat, problems := f.check()
	assets, err := f.assetMap(cat)
	problems = errors.Join(problems, err)
	if f.set.ValidateOnly() {
		return f.set.Validate(stdout, problems)
	}
	if problems != nil {
		return fmt.Errorf("reconcile: invalid configuration: %w", problems)
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	report, err := reconcileOnce(ctx, f, cat, assets)
	if err != nil {
		return err
	}
	report.Write(stdout, f.limit)
	if n := report.Problems(); n > 0 {
		return fmt.Errorf("reconcile: %d problems", n)
	}
	return nil
}

func reconcileOnce(ctx context.Context, f *reconcileFlags, cat *events.Catalog, assets reconcile.AssetMap) (*reconcile.Report, error) {
	client, err := usageapi.New(f.connectURL, f.apiKey)
	if err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	conn, err := bus.Connect(ctx, f.nats.Bus("reconcile", slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	defer conn.Close()
	report, err := reconcile.Reconcile(ctx, conn, client, reconcile.Options{Catalog: cat, Settle: f.settle, Since: f.since,
		Assets: assets})
	if err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	return report, nil
}
