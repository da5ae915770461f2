package main

import (
	"context"
	"errors"
	"io"
)

// benchSubmitter is not implemented yet.
func benchSubmitter(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return errors.New("bench_submitter: not implemented yet")
}
