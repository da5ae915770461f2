package main

import (
	"context"
	"errors"
	"io"

	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/opsapi"
	"github.com/usagepipe/usagepipe/internal/usage"
)

// runUsage prints a subscription's current usage (from its partition's owner) and its last closed periods.
func runUsage(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var q usage.Query
	return runRead(ctx, readCommand{name: "usage",
		flags: func(fs *config.FlagSet) {
			fs.StringVar(&q.Subscription, "subject", "", "the subscription (the events' subject, AS-…); required")
			fs.StringVar(&q.Product, "product", "", "only this product")
			fs.StringVar(&q.Item, "item", "", "only this item (MPN)")
			fs.IntVar(&q.Periods, "periods", usage.DefaultPeriods, "closed periods shown per product")
			fs.BoolVar(&q.Reported, "reported", false, "add what accepted files reported for the closed periods (reads USAGE_AGG)")
		},
		check: func() error {
			if q.Subscription == "" {
				return errors.New("--subject is required")
			}
			return nil
		},
		work: withServices(func(ctx context.Context, env *readEnv, svc opsapi.Services) error {
			a, err := svc.Usage.Usage(ctx, q)
			if err != nil {
				return err
			}
			return env.show(a)
		}),
	}, args, getenv, stdout)
}
