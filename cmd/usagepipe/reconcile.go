package main

import (
	"context"
	"errors"
	"io"
)

// runReconcile is not implemented yet.
func runReconcile(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return errors.New("reconcile: not implemented yet")
}
