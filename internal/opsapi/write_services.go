package opsapi

import (
	"context"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/deadletter"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/parked"
)

// AddWriteServices adds the write side's services (dead letters, parked files) over conn to svc, judging with
// the catalog c gives (the committed fold configuration's when it gives none) and reading Connect through its
// client (none: resubmissions are refused).
func AddWriteServices(ctx context.Context, conn *bus.Conn, svc *Services, c ReadConfig) error {
	if err := c.resolve(ctx, conn); err != nil {
		return err
	}
	l, err := ledger.Open(ctx, conn)
	if err != nil {
		return fmt.Errorf("opsapi: %w", err)
	}
	letters, err := deadletter.New(conn, l, c.Catalog)
	if err != nil {
		return fmt.Errorf("opsapi: %w", err)
	}
	var files parked.Files
	if c.Connect != nil {
		files = c.Connect
	}
	p, err := parked.New(l, conn, files, c.Catalog)
	if err != nil {
		return fmt.Errorf("opsapi: %w", err)
	}
	svc.DeadLetters, svc.Parked = letters, p
	return nil
}
