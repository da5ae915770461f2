package main

import (
	"context"
	"errors"
	"io"
)

// runNATS is not implemented yet.
func runNATS(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return errors.New("nats: not implemented yet")
}
