package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/opsapi"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// operatorFlags are the flags the read commands (explain, usage, status) share: NATS, optionally the catalog
// and Connect, the output format and a timeout. Each is also read from USAGEPIPE_<NAME>.
type operatorFlags struct {
	set        *config.FlagSet
	nats       *config.NATS
	catalog    string
	connectURL string
	apiKey     string
	json       bool
	timeout    time.Duration
}

func newOperatorFlags(name string, getenv func(string) string, out io.Writer) *operatorFlags {
	f := &operatorFlags{set: config.NewFlagSet(name, getenv)}
	f.set.SetOutput(out)
	f.set.StringVar(&f.catalog, "catalog", "", "product catalog (YAML); default: the one the aggregators committed last")
	f.set.StringVar(&f.connectURL, "connect-url", usageapi.DefaultBaseURL, "Connect API base URL (with --connect-api-key)")
	f.set.Secret(&f.apiKey, "connect-api-key", "Connect API key (SU-…:…); without it answers stop at the ledger")
	f.set.BoolVar(&f.json, "json", false, "print JSON instead of text")
	f.set.DurationVar(&f.timeout, "timeout", time.Minute, "give up after this long")
	f.nats = config.AddNATS(f.set)
	return f
}

// readConfig loads the catalog and builds the Connect client, if given; P is the committed one unless the
// flag (or its variable) sets it.
func (f *operatorFlags) readConfig() (opsapi.ReadConfig, error) {
	var c opsapi.ReadConfig
	errs := []error{f.nats.Check()}
	if f.catalog != "" {
		cat, err := events.LoadCatalog(f.catalog)
		errs = append(errs, err)
		c.Catalog = cat
	}
	if f.set.Source("partitions") != config.SourceDefault {
		c.Partitions = f.nats.Partitions
	}
	if f.apiKey != "" {
		client, err := usageapi.New(f.connectURL, f.apiKey)
		errs = append(errs, err)
		c.Connect = client
	}
	return c, errors.Join(errs...)
}

// withServices connects and calls fn with the read services.
func (f *operatorFlags) withServices(ctx context.Context, fn func(context.Context, opsapi.Services) error) error {
	c, err := f.readConfig()
	if err != nil {
		return fmt.Errorf("%s: %w", f.set.Name(), err)
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	conn, err := bus.Connect(ctx, f.nats.Bus("usagepipe-"+f.set.Name(), slog.New(slog.DiscardHandler)))
	if err != nil {
		return fmt.Errorf("%s: %w", f.set.Name(), err)
	}
	defer conn.Close()
	svc, err := opsapi.NewReadServices(ctx, conn, c)
	if err != nil {
		return fmt.Errorf("%s: %w", f.set.Name(), err)
	}
	return fn(ctx, svc)
}

// texter is an answer that prints itself for a person.
type texter interface{ WriteText(io.Writer) }

// print writes v as JSON (--json) or as text.
func (f *operatorFlags) print(w io.Writer, v texter) error {
	if !f.json {
		v.WriteText(w)
		return nil
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
