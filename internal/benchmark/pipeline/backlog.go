package pipeline

import (
	"context"
	"sync"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregator"
	"github.com/usagepipe/usagepipe/internal/bus"
)

// sampleEvery is how often the committed backlog is read.
const sampleEvery = time.Second

// backlogWatch samples the aggregators' committed backlog (aggregator.ReadBacklog: the largest lag of any
// partition) every second from its own connection. One goroutine runs it; samples are read under mu.
type backlogWatch struct {
	conn       *bus.Conn
	partitions int

	mu      sync.Mutex
	samples []backlogSample
	err     error // the last read's, nil when it succeeded
}

func (w *backlogWatch) run(ctx context.Context) {
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		b, err := aggregator.ReadBacklog(ctx, w.conn, w.partitions)
		now := time.Now()
		w.mu.Lock()
		w.err = err
		if err == nil {
			s := backlogSample{at: now}
			for _, p := range b {
				s.lag = max(s.lag, p.Lag)
			}
			w.samples = append(w.samples, s)
		}
		w.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// between returns the samples taken in [from, to].
func (w *backlogWatch) between(from, to time.Time) []backlogSample {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []backlogSample
	for _, s := range w.samples {
		if !s.at.Before(from) && !s.at.After(to) {
			out = append(out, s)
		}
	}
	return out
}

// last is the latest sample, and the latest read's error.
func (w *backlogWatch) last() (backlogSample, bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.samples) == 0 {
		return backlogSample{}, false, w.err
	}
	return w.samples[len(w.samples)-1], true, w.err
}

// maxLag is the largest lag among samples.
func maxLag(samples []backlogSample) time.Duration {
	var m time.Duration
	for _, s := range samples {
		m = max(m, s.lag)
	}
	return m
}
