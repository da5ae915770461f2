package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/usagepipe/usagepipe/internal/benchmark/rawpublish"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/childproc"
)

// nameRawNATS is the nats-server of the raw publish baseline.
const nameRawNATS = "nats-raw"

// rawBaseline measures raw JetStream async publish (internal/benchmark/rawpublish) against a nats-server
// process of its own, started on a fresh store before the system and removed after: the same server binary
// and store disk as the system's, over loopback, with nothing else of the run using the machine. It returns
// the best of the rounds (the other work of a shared machine only slows a round down).
func (r *run) rawBaseline(ctx context.Context) (float64, error) {
	spec, url, err := r.sys.natsSpec(nameRawNATS)
	if err != nil {
		return 0, err
	}
	p := childproc.New(spec)
	defer func() {
		p.Close()
		_ = os.RemoveAll(filepath.Join(r.sys.dir, "nats", nameRawNATS))
	}()
	if err := startListening(ctx, p, url); err != nil {
		return 0, err
	}
	conn, err := connectBus(ctx, url, "bench-raw")
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if err := conn.Provision(ctx, bus.Topology{Partitions: r.cfg.Partitions}); err != nil {
		return 0, fmt.Errorf("pipeline: raw baseline: %w", err)
	}
	var rates []float64
	for round := range r.cfg.RawRounds {
		rate, err := rawpublish.Run(ctx, conn, rawpublish.Options{Messages: r.cfg.RawMessages, Window: r.cfg.RawWindow,
			Publishers: r.cfg.RawPublishers, Partitions: r.cfg.Partitions, IDPrefix: fmt.Sprintf("raw-%d", round)})
		if err != nil {
			return 0, err
		}
		r.log.Printf("raw publish round %d: %d messages of %d B, windows of %d from %d publishers: %.0f msgs/s",
			round+1, r.cfg.RawMessages, rawpublish.MessageBytes, r.cfg.RawWindow, r.cfg.RawPublishers, rate)
		rates = append(rates, rate)
	}
	return slices.Max(rates), nil
}
