package opsapi

import (
	"context"
	"errors"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/aggregator"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/lineage"
	"github.com/usagepipe/usagepipe/internal/status"
	"github.com/usagepipe/usagepipe/internal/usage"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// ReadConfig is what the read services need besides the connection.
type ReadConfig struct {
	Catalog    *events.Catalog  // nil: the committed fold configuration's
	Partitions int              // P; 0: the committed fold configuration's
	Connect    *usageapi.Client // nil: answers stop at the ledger
}

// ReadSide is the read side's services as the service layer builds them (the web console uses their other
// methods too), and the configuration they were built with, resolved.
type ReadSide struct {
	Lineage *lineage.Service
	Usage   *usage.Service
	Status  status.Reader
	Config  ReadConfig // with the catalog and P resolved
}

// NewReadServices builds the read side's services (lineage, usage, status) over conn. The catalog and P not
// given are those of the fold configuration the aggregators committed last.
func NewReadServices(ctx context.Context, conn *bus.Conn, c ReadConfig) (Services, error) {
	rs, err := NewReadSide(ctx, conn, c)
	if err != nil {
		return Services{}, err
	}
	return Services{Lineage: rs.Lineage, Usage: rs.Usage, Status: rs.Status}, nil
}

// NewReadSide builds the read side's services over conn, as NewReadServices does.
func NewReadSide(ctx context.Context, conn *bus.Conn, c ReadConfig) (*ReadSide, error) {
	if err := c.resolve(ctx, conn); err != nil {
		return nil, err
	}
	lo := lineage.Options{Catalog: c.Catalog, Partitions: c.Partitions}
	if c.Connect != nil {
		lo.Connect = c.Connect
	}
	l, err := lineage.New(ctx, conn, lo)
	if err != nil {
		return nil, fmt.Errorf("opsapi: %w", err)
	}
	u, err := usage.New(ctx, conn, c.Partitions)
	if err != nil {
		return nil, fmt.Errorf("opsapi: %w", err)
	}
	st := status.Reader{Bus: conn, Options: status.Options{Catalog: c.Catalog, Partitions: c.Partitions}}
	return &ReadSide{Lineage: l, Usage: u, Status: st, Config: c}, nil
}

// resolve fills the catalog and P from the committed fold configuration.
func (c *ReadConfig) resolve(ctx context.Context, conn *bus.Conn) error {
	if c.Catalog != nil && c.Partitions > 0 {
		return nil
	}
	fc, ok, err := aggregator.CurrentFoldConfig(ctx, conn)
	switch {
	case err != nil:
		return fmt.Errorf("opsapi: %w", err)
	case !ok:
		return errors.New("opsapi: nothing is committed yet, so the catalog and the partition count must be given (--catalog, --partitions)")
	}
	if c.Catalog == nil {
		c.Catalog = fc.Catalog
	}
	if c.Partitions <= 0 {
		c.Partitions = fc.Partitions
	}
	return nil
}
