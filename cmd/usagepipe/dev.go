package main

import (
	"context"
	"errors"
	"io"
)

// runDev is not implemented yet.
func runDev(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return errors.New("dev: not implemented yet")
}
