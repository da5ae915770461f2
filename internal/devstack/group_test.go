package devstack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// The first goroutine to fail ends the group; the others, ending with context.Canceled because of it, are
// not reported as failures of their own.
func TestGroupReportsTheFailureNotTheCancellations(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := &group{cancel: cancel, stopping: ctx.Done()}
	g.run("submitter", func() error {
		<-ctx.Done()
		return fmt.Errorf("ledger: %w", ctx.Err())
	})
	g.run("operator", func() error { return errors.New("listen: address already in use") })
	err := g.wait()
	if err == nil || !strings.Contains(err.Error(), "operator: listen") || strings.Contains(err.Error(), "submitter") {
		t.Errorf("want the operator's failure alone, have %v", err)
	}
}

// A goroutine that ends with context.Canceled while the stack is not stopping has failed: it is reported
// and ends the stack.
func TestGroupReportsACancellationOfItsOwn(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := &group{cancel: cancel, stopping: ctx.Done()}
	g.run("observer", func() error { return fmt.Errorf("read: %w", context.Canceled) })
	if err := g.wait(); err == nil || !strings.Contains(err.Error(), "observer: read: context canceled") {
		t.Errorf("want the observer's own cancellation reported, have %v", err)
	}
	if ctx.Err() == nil {
		t.Error("the stack was not stopped")
	}
}
