package pipeline

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// Config sizes and shapes a run. [DefaultConfig] is the full bench, [QuickConfig] a CI-sized one.
type Config struct {
	// The system.
	BinDir     string // prebuilt ingest, aggregator, submitter and usagepipe binaries; empty: go build ./cmd/...
	WorkDir    string // parent of the run directory; default the system temp directory
	Keep       bool   // keep the run directory (stores, logs) even when the run succeeds
	Partitions int    // event partitions P

	// The workload.
	Subscriptions  int           // distinct subscriptions, spread over the products
	Products       int           // products, each with three summed items and fixed periods of Period
	ZipfS, ZipfV   float64       // subscription popularity: P(rank k) ∝ (ZipfV + k)^-ZipfS
	DuplicateShare float64       // share of events sent a second time
	LateShare      float64       // share of events timed in the latest period that has already closed
	Batch          int           // events per request
	Period         time.Duration // the products' fixed period
	Lateness       time.Duration // the products' allowed lateness
	Seed           uint64        // everything random derives from it

	// Stepping the rate up.
	StartRate    float64       // events/s of the first step
	StepFactor   float64       // each passed step multiplies the rate by it, until a step fails
	Refine       int           // steps bisecting between the last pass and the first failure
	Retries      int           // a failed step is run again this many times before its rate counts as failed
	MaxSteps     int           // steps at most
	StepDuration time.Duration // how long each step offers its rate
	GrowthWindow time.Duration // a backlog growing for this long fails a step
	P99Limit     time.Duration // an ingest p99 above this fails a step
	DrainTimeout time.Duration // how long to wait for the backlog to drain after a step

	// The soak, at SoakShare of the highest sustained rate.
	SoakShare     float64
	Soak          time.Duration
	SettleTimeout time.Duration // after the soak, how long to wait for its events to be in accepted files
	MaxProbes     int           // soak events whose end-to-end latency is followed (a uniform sample)

	// The raw JetStream publish baseline.
	RawMessages, RawRounds, RawWindow, RawPublishers int

	Out io.Writer // progress lines, the summary and the RESULT line; default io.Discard
}

// DefaultConfig is the full bench: 10 000 subscriptions over two products with one-minute periods, a
// 10-minute soak.
var DefaultConfig = Config{
	Partitions:     16,
	Subscriptions:  10_000,
	Products:       2,
	ZipfS:          1.1,
	ZipfV:          10,
	DuplicateShare: 0.05,
	LateShare:      0.01,
	Batch:          500,
	Period:         time.Minute,
	Lateness:       10 * time.Second,
	Seed:           1,
	StartRate:      4000,
	StepFactor:     1.5,
	Refine:         2,
	Retries:        1,
	MaxSteps:       16,
	StepDuration:   30 * time.Second,
	GrowthWindow:   10 * time.Second,
	P99Limit:       50 * time.Millisecond,
	DrainTimeout:   2 * time.Minute,
	SoakShare:      0.5,
	Soak:           10 * time.Minute,
	SettleTimeout:  3 * time.Minute,
	MaxProbes:      200_000,
	RawMessages:    200_000,
	RawRounds:      3,
	RawWindow:      1000,
	RawPublishers:  4,
}

// QuickConfig is a CI-sized run of a few minutes: short steps and soak, 10-second periods.
func QuickConfig() Config {
	c := DefaultConfig
	c.Subscriptions, c.Period, c.Lateness = 2000, 10*time.Second, 2*time.Second
	c.StartRate, c.StepFactor, c.Refine, c.MaxSteps = 1000, 2, 1, 8
	c.StepDuration, c.DrainTimeout = 15*time.Second, time.Minute
	c.Soak, c.SettleTimeout = time.Minute, time.Minute
	c.RawMessages, c.RawRounds = 50_000, 1
	return c
}

// withDefaults sets Out when it is nil.
func (c Config) withDefaults() Config {
	if c.Out == nil {
		c.Out = io.Discard
	}
	return c
}

// Check reports every problem of c at once.
func (c Config) Check() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, n := range []struct {
		name string
		v    int
	}{{"partitions", c.Partitions}, {"products", c.Products}, {"batch", c.Batch}, {"max steps", c.MaxSteps},
		{"max probes", c.MaxProbes}, {"raw messages", c.RawMessages}, {"raw rounds", c.RawRounds},
		{"raw window", c.RawWindow}, {"raw publishers", c.RawPublishers}} {
		if n.v < 1 {
			add("%s %d: want at least 1", n.name, n.v)
		}
	}
	if c.Products > 99 || c.Subscriptions < c.Products || c.Subscriptions > maxSubscriptions {
		add("subscriptions %d over %d products: want 1..99 products and one subscription per product at least, %d at most",
			c.Subscriptions, c.Products, maxSubscriptions)
	}
	if c.ZipfS <= 1 || c.ZipfV < 1 {
		add("zipf s %v, v %v: want s > 1 and v ≥ 1", c.ZipfS, c.ZipfV)
	}
	for _, s := range []struct {
		name string
		v    float64
	}{{"duplicate share", c.DuplicateShare}, {"late share", c.LateShare}, {"soak share", c.SoakShare}} {
		if s.v < 0 || s.v > 1 {
			add("%s %v: want 0..1", s.name, s.v)
		}
	}
	if c.Period < 2*time.Second || c.Period%time.Second != 0 || c.Lateness < time.Second {
		add("period %v, lateness %v: want whole seconds, a period of 2s at least and a lateness of 1s at least", c.Period, c.Lateness)
	}
	return errors.Join(append(errs, c.checkSteps())...)
}

// checkSteps reports the problems of the stepping and soak settings.
func (c Config) checkSteps() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.StartRate <= 0 || c.StepFactor <= 1 || c.Refine < 0 || c.Retries < 0 {
		add("start rate %v, step factor %v, refine %d, retries %d: want a positive rate, a factor above 1, refine and retries ≥ 0",
			c.StartRate, c.StepFactor, c.Refine, c.Retries)
	}
	if c.GrowthWindow < 2*time.Second || c.StepDuration < c.GrowthWindow {
		add("step %v, growth window %v: want a window of 2s at least and steps at least as long", c.StepDuration, c.GrowthWindow)
	}
	if c.P99Limit <= 0 || c.DrainTimeout <= 0 || c.Soak <= 0 || c.SettleTimeout <= 0 {
		add("p99 limit, drain timeout, soak and settle timeout must be positive")
	}
	return errors.Join(errs...)
}

// maxSubscriptions bounds the subscriptions: a subscription's index takes 20 bits of a truth key (truth.go).
const maxSubscriptions = 1 << 20
