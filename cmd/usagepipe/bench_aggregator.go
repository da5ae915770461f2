package main

import (
	"context"
	"errors"
	"io"
)

// benchAggregator is not implemented yet.
func benchAggregator(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return errors.New("bench_aggregator: not implemented yet")
}
