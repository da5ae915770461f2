package console

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/opsapi"
)

// NewServices builds the console's services over conn: the read side (opsapi.NewReadSide: the catalog and P
// not given are those the aggregators committed last), the ledger, the write side (opsapi.AddWriteServices:
// dead letters and parked files, judged with that catalog), and Connect when rc has a client.
func NewServices(ctx context.Context, conn *bus.Conn, rc opsapi.ReadConfig) (Services, error) {
	rs, err := opsapi.NewReadSide(ctx, conn, rc)
	if err != nil {
		return Services{}, fmt.Errorf("console: %w", err)
	}
	l, err := ledger.Open(ctx, conn)
	if err != nil {
		return Services{}, fmt.Errorf("console: %w", err)
	}
	var write opsapi.Services
	if err := opsapi.AddWriteServices(ctx, conn, &write, rs.Config); err != nil {
		return Services{}, fmt.Errorf("console: %w", err)
	}
	svc := Services{Lineage: rs.Lineage, Usage: rs.Usage, Status: rs.Status, Ledger: l, DeadLetters: write.DeadLetters,
		Parked: write.Parked, Catalog: rs.Config.Catalog, Partitions: rs.Config.Partitions}
	if rc.Connect != nil {
		svc.Connect = rc.Connect
	}
	return svc, nil
}

// shutdownGrace bounds how long a stopping console waits for requests in progress.
const shutdownGrace = 5 * time.Second

// Start listens on addr — refused on a non-loopback address without keys (opsapi.Listen) — and serves the
// console over svc until ctx ends, in the background; it returns the bound address.
func Start(ctx context.Context, addr string, svc Services, o Options) (string, error) {
	ln, c, err := listen(addr, svc, o)
	if err != nil {
		return "", err
	}
	go func() {
		if err := opsapi.Serve(ctx, ln, c, shutdownGrace); err != nil {
			c.log.Error("console stopped", "err", err)
		}
	}()
	return ln.Addr().String(), nil
}

// Serve is Start in the caller's goroutine: it calls ready with the bound address once it listens, and
// returns when ctx has ended and the requests in progress are done (at most shutdownGrace later).
func Serve(ctx context.Context, addr string, svc Services, o Options, ready func(bound string)) error {
	ln, c, err := listen(addr, svc, o)
	if err != nil {
		return err
	}
	ready(ln.Addr().String())
	if err := opsapi.Serve(ctx, ln, c, shutdownGrace); err != nil {
		return fmt.Errorf("console: %w", err)
	}
	return nil
}

// listen opens the console's listener and builds the console for it.
func listen(addr string, svc Services, o Options) (net.Listener, *Console, error) {
	ln, err := opsapi.Listen(addr, o.Keys)
	if err != nil {
		return nil, nil, fmt.Errorf("console: %w", err)
	}
	o.Listener = ln.Addr()
	c, err := New(svc, o)
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	c.log.Info("console listening", "addr", ln.Addr().String(), "operators", o.Keys.Len(), "open_on_loopback", c.open)
	return ln, c, nil
}
