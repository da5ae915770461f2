package devstack

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregator"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/svcstatus"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// Summary is the state of a running stack at one instant: what the live status line shows.
type Summary struct {
	At           time.Time
	Accepted     int64                       // events answered accepted since this start (ingest)
	Duplicates   int64                       // events answered duplicate since this start
	Rejected     int64                       // events answered rejected since this start
	EventsStored int64                       // events in USAGE_EVENTS (every start)
	OpenPeriods  int                         // periods with events that are not closed yet
	Closed       int                         // closed periods that had events
	DeadLetters  uint64                      // messages in USAGE_DLQ
	Files        map[usageapi.FileStatus]int // usage files in the emulator by status
	Partitions   int                         // P
	Owned        int                         // partitions held by a live aggregator (lease)
	MaxLag       float64                     // seconds: the largest lag an aggregator runner sampled
}

// Summary gathers the counters of the ingest service, the observer, the dead-letter stream and the emulator.
func (s *Stack) Summary(ctx context.Context) Summary {
	sum := Summary{At: time.Now(), Files: map[usageapi.FileStatus]int{}}
	byStatus := s.ingestCounts()
	sum.Accepted, sum.Duplicates, sum.Rejected = byStatus["accepted"], byStatus["duplicate"], byStatus["rejected"]
	c := s.observer.counts()
	sum.EventsStored, sum.OpenPeriods, sum.Closed = c.EventsStored, c.OpenPeriods, c.Closed
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if seq, err := s.workers[ServiceIngest].conn.LastSeq(ctx, bus.StreamDLQ); err == nil {
		sum.DeadLetters = seq
	}
	for _, f := range s.emulator.Files() {
		sum.Files[f.Status]++
	}
	s.aggregatorHealth(ctx, &sum)
	return sum
}

// aggregatorHealth reads the partitions' leases and the aggregators' heartbeats: a stuck or absent aggregator
// shows as partitions without an owner or a growing lag.
func (s *Stack) aggregatorHealth(ctx context.Context, sum *Summary) {
	conn := s.workers[ServiceSubmitter].conn
	sum.Partitions = s.opts.Partitions
	if owners, err := aggregator.ReadOwners(ctx, conn, s.opts.Partitions, time.Now()); err == nil {
		for _, o := range owners {
			if o.Live {
				sum.Owned++
			}
		}
	}
	if hbs, err := svcstatus.Read(ctx, conn); err == nil {
		for _, hb := range hbs {
			if hb.Aggregator == nil {
				continue
			}
			for _, p := range hb.Aggregator.Partitions {
				sum.MaxLag = max(sum.MaxLag, p.LagSeconds)
			}
		}
	}
}

// ingestCounts reads usagepipe_ingest_events_total by status from the ingest service's registry.
func (s *Stack) ingestCounts() map[string]int64 {
	counts := map[string]int64{}
	families, err := s.workers[ServiceIngest].tel.Registry.Gather()
	if err != nil {
		return counts
	}
	for _, mf := range families {
		if mf.GetName() != "usagepipe_ingest_events_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "status" {
					counts[l.GetValue()] += int64(m.GetCounter().GetValue())
				}
			}
		}
	}
	return counts
}

// FilesIn counts the usage files in any of the given statuses.
func (sum Summary) FilesIn(statuses ...usageapi.FileStatus) int {
	n := 0
	for _, st := range statuses {
		n += sum.Files[st]
	}
	return n
}

// String is the one-line status: events, periods, files by status.
func (sum Summary) String() string {
	return fmt.Sprintf("%s  events %d stored (this run: %d accepted, %d duplicate, %d rejected) | %s | periods %d open, %d closed | files %s | dead letters %d",
		sum.At.Format("15:04:05"), sum.EventsStored, sum.Accepted, sum.Duplicates, sum.Rejected, sum.aggregatorText(),
		sum.OpenPeriods, sum.Closed, sum.filesText(), sum.DeadLetters)
}

// aggregatorText is the aggregators' health: "aggregator 4/4 partitions, lag 0.2s", with the partitions
// nobody owns called out.
func (sum Summary) aggregatorText() string {
	s := fmt.Sprintf("aggregator %d/%d partitions, lag %.1fs", sum.Owned, sum.Partitions, sum.MaxLag)
	if n := sum.Partitions - sum.Owned; n > 0 {
		s += fmt.Sprintf(" (%d WITHOUT OWNER)", n)
	}
	return s
}

// filesText lists the file counts in the order of a file's life: "3 accepted, 1 pending" or "none yet".
func (sum Summary) filesText() string {
	order := []usageapi.FileStatus{usageapi.FileStatusDraft, usageapi.FileStatusUploading,
		usageapi.FileStatusUploaded, usageapi.FileStatusProcessing, usageapi.FileStatusInvalid,
		usageapi.FileStatusReady, usageapi.FileStatusPending, usageapi.FileStatusAccepted,
		usageapi.FileStatusClosed, usageapi.FileStatusRejected, usageapi.FileStatusDeleted}
	var parts []string
	for st := range sum.Files {
		if !slices.Contains(order, st) {
			order = append(order, st)
		}
	}
	for _, st := range order {
		if n := sum.Files[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	if len(parts) == 0 {
		return "none yet"
	}
	return strings.Join(parts, ", ")
}
