package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/usagepipe/usagepipe/internal/opsapi"
	"github.com/usagepipe/usagepipe/internal/usage"
)

// runUsage prints a subscription's current usage (from its partition's owner) and its last closed periods.
func runUsage(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := newOperatorFlags("usage", getenv, stdout)
	var q usage.Query
	f.set.StringVar(&q.Subscription, "subject", "", "the subscription (the events' subject, AS-…); required")
	f.set.StringVar(&q.Product, "product", "", "only this product")
	f.set.StringVar(&q.Item, "item", "", "only this item (MPN)")
	f.set.IntVar(&q.Periods, "periods", usage.DefaultPeriods, "closed periods shown per product")
	f.set.BoolVar(&q.Reported, "reported", false, "add what accepted files reported for the closed periods (reads USAGE_AGG)")
	if err := f.set.Parse(args); err != nil {
		return fmt.Errorf("usage: %w", err)
	}
	if q.Subscription == "" {
		return errors.New("usage: --subject is required")
	}
	return f.withServices(ctx, func(ctx context.Context, svc opsapi.Services) error {
		a, err := svc.Usage.Usage(ctx, q)
		if err != nil {
			return fmt.Errorf("usage: %w", err)
		}
		return f.print(stdout, a)
	})
}
