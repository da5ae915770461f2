package devstack

import (
	"context"
	"fmt"
	"io"

	"github.com/usagepipe/usagepipe/internal/opsapi"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// startOperator serves the operator API over the submitter's connection, as a submitter with --operator-addr
// does: without a key on a loopback address (the dev exception), with Options.OperatorKeys elsewhere.
func (s *Stack) startOperator(ctx context.Context, _ io.Writer) error {
	w := s.workers[ServiceSubmitter]
	client, err := usageapi.New(s.urls.Connect, s.opts.ConnectAPIKey)
	if err != nil {
		return fmt.Errorf("devstack: operator API: %w", err)
	}
	rc := opsapi.ReadConfig{Catalog: s.opts.Catalogs.Pipeline, Partitions: s.opts.Partitions, Connect: client}
	o := opsapi.Options{Keys: s.opts.OperatorKeys, AllowLoopback: true, Logger: w.tel.Logger}
	addr, err := opsapi.StartServer(ctx, s.opts.OperatorAddr, w.conn, rc, o)
	if err != nil {
		return fmt.Errorf("devstack: operator API: %w", err)
	}
	s.urls.Operator = "http://" + addr
	return nil
}
