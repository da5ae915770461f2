package devstack

import (
	"context"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/status"
)

// devStatusEvery is how often dev reads the system view for its gauges: as often as its status line.
const devStatusEvery = 5 * time.Second

// exportStatus serves the system view as the submitter's usagepipe_status_* gauges, as cmd/submitter does
// (each submitter, each on its own registry).
func (s *Stack) exportStatus(ctx context.Context, name string, w *worker) error {
	r := status.Reader{Bus: w.conn, Options: status.Options{Catalog: s.opts.Catalogs.Pipeline, Partitions: s.opts.Partitions}}
	e, err := status.NewExporter(r, w.tel.MeterProvider())
	if err != nil {
		return fmt.Errorf("devstack: status metrics: %w", err)
	}
	s.group.run(name+" status metrics", func() error {
		e.Run(ctx, devStatusEvery, w.tel.Logger)
		return nil
	})
	return nil
}
