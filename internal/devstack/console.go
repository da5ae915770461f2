package devstack

import (
	"context"
	"fmt"
	"io"

	"github.com/usagepipe/usagepipe/internal/console"
	"github.com/usagepipe/usagepipe/internal/opsapi"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// startConsole serves the web console over the submitter's connection, as usagepipe console does: without a
// key on a loopback address (the dev exception), with Options.OperatorKeys elsewhere.
func (s *Stack) startConsole(ctx context.Context, _ io.Writer) error {
	w := s.workers[ServiceSubmitter]
	client, err := usageapi.New(s.urls.Connect, s.opts.ConnectAPIKey)
	if err != nil {
		return fmt.Errorf("devstack: console: %w", err)
	}
	rc := opsapi.ReadConfig{Catalog: s.opts.Catalogs.Pipeline, Partitions: s.opts.Partitions, Connect: client}
	svc, err := console.NewServices(ctx, w.conn, rc)
	if err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	o := console.Options{Keys: s.opts.OperatorKeys, AllowLoopback: true, Logger: w.tel.Logger}
	addr, err := console.Start(ctx, s.opts.ConsoleAddr, svc, o)
	if err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	s.urls.Console = "http://" + addr + "/"
	return nil
}
