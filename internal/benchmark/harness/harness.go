// Package harness is what every `usagepipe bench` benchmark runs on: an embedded JetStream on a temporary
// store with a provisioned connection, the process's CPU time, CPU profiles, medians and percentiles. The
// benchmarks themselves are internal/benchmark/<name>; each prints its rounds and ends with a RESULT line.
//
// # Concurrency
//
// A JetStream's connection is safe for concurrent use; the other functions are pure or read the process's
// own counters.
package harness

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"syscall"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/natsembed"
)

// JetStream is an embedded JetStream server on a temporary store (file storage) and a provisioned
// connection to it. Close removes everything.
type JetStream struct {
	Server *natsembed.Server
	Conn   *bus.Conn
	dir    string
}

// StartJetStream starts a server on a new temporary directory (named after name), connects as name and
// provisions partitions event partitions.
func StartJetStream(ctx context.Context, name string, partitions int) (*JetStream, error) {
	dir, err := os.MkdirTemp("", "usagepipe-"+name+"-")
	if err != nil {
		return nil, err
	}
	js := &JetStream{dir: dir}
	if js.Server, err = natsembed.Start(natsembed.Options{StoreDir: dir}); err == nil {
		js.Conn, err = bus.Connect(ctx, bus.Config{URL: js.Server.URL(), Name: name, Log: slog.New(slog.DiscardHandler)})
	}
	if err == nil {
		err = js.Conn.Provision(ctx, bus.Topology{Partitions: partitions})
	}
	if err != nil {
		js.Close()
		return nil, fmt.Errorf("embedded JetStream: %w", err)
	}
	return js, nil
}

// Close closes the connection, shuts the server down and removes the store.
func (js *JetStream) Close() {
	if js.Conn != nil {
		js.Conn.Close()
	}
	if js.Server != nil {
		js.Server.Shutdown()
	}
	_ = os.RemoveAll(js.dir)
}

// ProcessCPU is the CPU time (user + system) this process has used: the embedded server, the clients and the
// service under test together.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// PerItem is d in microseconds per item.
func PerItem(d time.Duration, n int) float64 { return float64(d.Microseconds()) / float64(n) }

// StartProfile starts a CPU profile into path ("": none) and returns its stop function.
func StartProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// Median is the median of xs (not empty).
func Median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Percentile is the p-th percentile (nearest rank) of sorted (not empty).
func Percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}
