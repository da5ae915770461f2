package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/reconcile"
	"github.com/usagepipe/usagepipe/internal/startup"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// reconcileFlags are the reconcile command line (each also read from USAGEPIPE_<NAME>).
type reconcileFlags struct {
	connectURL  string
	apiKey      string
	catalogPath string
	settle      time.Duration
	since       time.Duration
	assetsArg   string
	limit       int
	timeout     time.Duration

	catalog  *events.Catalog    // loaded by check
	assetMap reconcile.AssetMap // loaded by check
}

func (f *reconcileFlags) declare(fs *config.FlagSet) {
	fs.StringVar(&f.connectURL, "connect-url", usageapi.DefaultBaseURL, "Connect API base URL")
	fs.Secret(&f.apiKey, "connect-api-key", "Connect API key (SU-…:…); required")
	fs.StringVar(&f.catalogPath, "catalog", "", "path of the product catalog (YAML); required")
	fs.DurationVar(&f.settle, "settle", 15*time.Minute, "leave out periods that closed less than this long ago")
	fs.DurationVar(&f.since, "since", 0, "compare only periods that started within this long before now (0: all)")
	fs.StringVar(&f.assetsArg, "assets", "", "JSON array of Connect assets (GET /public/v1/assets, with params) mapping the assets of parameter-searched products to the vendor's subscription ids")
	fs.IntVar(&f.limit, "max-lines", 0, "list at most this many problems of each kind (0: all)")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Minute, "give up after this long")
}

// check loads the catalog and the asset map and reports every configuration problem at once.
func (f *reconcileFlags) check() error {
	var errs []error
	if f.apiKey == "" {
		errs = append(errs, errors.New("--connect-api-key is required (prefer USAGEPIPE_CONNECT_API_KEY)"))
	}
	if f.catalogPath == "" {
		errs = append(errs, errors.New("--catalog is required"))
	} else if c, err := events.LoadCatalog(f.catalogPath); err != nil {
		errs = append(errs, fmt.Errorf("--catalog: %w", err))
	} else {
		f.catalog = c
	}
	if f.settle < 0 {
		errs = append(errs, fmt.Errorf("--settle %v: must not be negative", f.settle))
	}
	if f.since < 0 {
		errs = append(errs, fmt.Errorf("--since %v: must not be negative", f.since))
	}
	return errors.Join(append(errs, f.loadAssets())...)
}

// loadAssets loads --assets (nothing when it is not set).
func (f *reconcileFlags) loadAssets() error {
	if f.assetsArg == "" || f.catalog == nil {
		return nil
	}
	m, err := reconcile.LoadAssetMap(f.assetsArg, f.catalog)
	if err != nil {
		return fmt.Errorf("--assets: %w", err)
	}
	f.assetMap = m
	return nil
}

// runReconcile compares the closed periods in USAGE_AGG and the submitter ledger with the records Connect
// reports (accepted and closed files), lists every difference with its asset, item and period, and fails when
// there is any.
func runReconcile(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := &reconcileFlags{}
	return startup.Run(ctx, startup.Command{Name: "reconcile", Uses: startup.Uses{NATS: true},
		Flags: f.declare, Check: f.check, Serve: f.serve, Timeout: func() time.Duration { return f.timeout }}, args, getenv, stdout)
}

func (f *reconcileFlags) serve(ctx context.Context, env startup.Env) error {
	client, err := usageapi.New(f.connectURL, f.apiKey)
	if err != nil {
		return err
	}
	report, err := reconcile.Reconcile(ctx, env.Conn, client, reconcile.Options{Catalog: f.catalog, Settle: f.settle, Since: f.since,
		Assets: f.assetMap})
	if err != nil {
		return err
	}
	report.Write(env.Stdout, f.limit)
	if n := report.Problems(); n > 0 {
		return fmt.Errorf("%d problems", n)
	}
	return nil
}
