package chaos

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/usagepipe/usagepipe/internal/config"
)

// Config sizes and shapes a run. Zero fields take the defaults of [DefaultConfig], except FaultRate,
// DuplicateShare and LateShare, where zero means none, Seed, where zero is a seed, and DeadLetters, false
// unless set.
type Config struct {
	Events         int           // unique events
	Subscriptions  int           // subscriptions (Connect assets), spread over the products
	Products       int           // products; their period lengths and aggregations cycle through templates
	Duration       time.Duration // send window: the workload's events are planned evenly over it
	Seed           uint64        // everything random derives from it
	KillEvery      time.Duration // mean time between two worker kills; negative: no kills at all
	FaultRate      float64       // share of Connect requests that meet an injected fault
	Cluster        int           // NATS nodes: 1, or 3 for a JetStream cluster with R3 streams
	AcceptAfter    time.Duration // how long the emulated provider takes to accept a submitted file
	Keep           bool          // keep the work directory (stores, logs) even when the run passes
	DuplicateShare float64       // share of events sent a second time
	LateShare      float64       // share of events timed in a period that has closed when they are sent
	LateMax        time.Duration // how far before its send a late event may be timed (0: its period, lateness and 3s)
	Periods        []PeriodShape // the products' periods and lateness, cycled (none: the templates' 4s+1s, 6s+2s, 12s+3s)
	Ingests        int           // ingest processes
	Aggregators    int           // aggregator processes
	Submitters     int           // submitter processes
	Partitions     int           // event partitions P
	SettleTimeout  time.Duration // how long to wait for Connect to settle after the last period closed
	// DeadLetters holds a product back from the pipeline's catalog and a few assets from Connect's, so that
	// events are rejected and kept by ingest and records refused by Connect; once the first settle is
	// reached both are fixed, the dead letters replayed (the replay SIGKILLed once), and the verdict is the
	// settle after that.
	DeadLetters bool
	WorkDir     string    // parent of the run's directory; default the system temp directory
	BinDir      string    // prebuilt binaries (ingest, aggregator, submitter, usagepipe); empty: build them
	Out         io.Writer // progress lines, the summary and the RESULT line; default io.Discard
}

// DefaultConfig is the default run of `usagepipe chaos`.
var DefaultConfig = Config{
	Events:         200000,
	Subscriptions:  2000,
	Products:       3,
	Duration:       2 * time.Minute,
	Seed:           1,
	KillEvery:      3 * time.Second,
	FaultRate:      0.05,
	Cluster:        1,
	AcceptAfter:    300 * time.Millisecond,
	DuplicateShare: 0.05,
	LateShare:      0.005,
	Ingests:        2,
	Aggregators:    3,
	Submitters:     2,
	Partitions:     16,
	SettleTimeout:  5 * time.Minute,
	DeadLetters:    true,
}

// withDefaults returns c with zero fields set from DefaultConfig (Seed 0 is a valid seed and stays).
func (c Config) withDefaults() Config {
	d := DefaultConfig
	config.SetDefault(&c.Events, d.Events)
	config.SetDefault(&c.Subscriptions, d.Subscriptions)
	config.SetDefault(&c.Products, d.Products)
	config.SetDefault(&c.Duration, d.Duration)
	config.SetDefault(&c.KillEvery, d.KillEvery)
	config.SetDefault(&c.Cluster, d.Cluster)
	config.SetDefault(&c.AcceptAfter, d.AcceptAfter)
	config.SetDefault(&c.Ingests, d.Ingests)
	config.SetDefault(&c.Aggregators, d.Aggregators)
	config.SetDefault(&c.Submitters, d.Submitters)
	config.SetDefault(&c.Partitions, d.Partitions)
	config.SetDefault(&c.SettleTimeout, d.SettleTimeout)
	if c.Out == nil {
		c.Out = io.Discard
	}
	return c
}

// Check reports every problem of c at once.
func (c Config) Check() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Events < 1 || c.Events > maxEvents {
		add("events %d: want 1..%d", c.Events, maxEvents)
	}
	if c.Products < 1 || c.Products > 99 {
		add("products %d: want 1..99", c.Products)
	}
	if c.Subscriptions < c.Products || c.Subscriptions > 99999 {
		add("subscriptions %d: want %d (one per product)..99999", c.Subscriptions, c.Products)
	}
	if c.Duration < time.Second {
		add("duration %v: want at least 1s", c.Duration)
	}
	for _, s := range []struct {
		name string
		v    float64
	}{{"fault rate", c.FaultRate}, {"duplicate share", c.DuplicateShare}, {"late share", c.LateShare}} {
		if s.v < 0 || s.v > 1 {
			add("%s %v: want 0..1", s.name, s.v)
		}
	}
	if c.Cluster != 1 && c.Cluster != 3 {
		add("cluster %d: want 1 or 3", c.Cluster)
	}
	if c.Ingests < 1 || c.Aggregators < 1 || c.Submitters < 1 {
		add("want at least one ingest, aggregator and submitter")
	}
	if c.LateMax < 0 || c.LateMax >= c.Duration {
		add("late max %v: want 0..the send window (%v)", c.LateMax, c.Duration)
	}
	if err := checkPeriods(c.Periods); err != nil {
		add("%w", err)
	}
	if c.SettleTimeout < 0 {
		add("settle timeout %v: must not be negative", c.SettleTimeout)
	}
	return errors.Join(errs...)
}

// maxEvents bounds the workload: event times carry the event's index in their nanoseconds to stay unique.
const maxEvents = 1_000_000
