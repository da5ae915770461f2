package main

import (
	"context"
	"errors"
	"io"
)

// runChaos is not implemented yet.
func runChaos(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return errors.New("chaos: not implemented yet")
}
