package main

import (
	"context"
	"errors"
	"io"
)

// benchIngest is not implemented yet.
func benchIngest(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return errors.New("bench_ingest: not implemented yet")
}
