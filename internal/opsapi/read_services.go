package opsapi

import (
	"context"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/lineage"
	"github.com/usagepipe/usagepipe/internal/status"
	"github.com/usagepipe/usagepipe/internal/usage"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// ReadConfig is what the read services need besides the connection.
type ReadConfig struct {
	Catalog    *events.Catalog  // used until a fold configuration is committed
	Partitions int              // P
	Connect    *usageapi.Client // nil: answers stop at the ledger
}

// NewReadServices builds the read side's services (lineage, usage, status) over conn.
func NewReadServices(ctx context.Context, conn *bus.Conn, c ReadConfig) (Services, error) {
	lo := lineage.Options{Catalog: c.Catalog, Partitions: c.Partitions}
	if c.Connect != nil {
		lo.Connect = c.Connect
	}
	l, err := lineage.New(ctx, conn, lo)
	if err != nil {
		return Services{}, fmt.Errorf("opsapi: %w", err)
	}
	u, err := usage.New(ctx, conn, c.Partitions)
	if err != nil {
		return Services{}, fmt.Errorf("opsapi: %w", err)
	}
	st := status.Reader{Bus: conn, Options: status.Options{Catalog: c.Catalog, Partitions: c.Partitions}}
	return Services{Lineage: l, Usage: u, Status: st}, nil
}
