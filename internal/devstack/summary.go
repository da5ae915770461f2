package devstack

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
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
	return sum
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
	return fmt.Sprintf("%s  events %d stored (this run: %d accepted, %d duplicate, %d rejected) | periods %d open, %d closed | files %s | dead letters %d",
		sum.At.Format("15:04:05"), sum.EventsStored, sum.Accepted, sum.Duplicates, sum.Rejected,
		sum.OpenPeriods, sum.Closed, sum.filesText(), sum.DeadLetters)
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
