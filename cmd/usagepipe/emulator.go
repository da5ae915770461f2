package main

import (
	"context"
	"errors"
	"io"
)

// runEmulator is not implemented yet.
func runEmulator(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return errors.New("emulator: not implemented yet")
}
