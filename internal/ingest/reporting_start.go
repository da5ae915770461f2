package ingest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// reportingStartTimeout bounds the one lookup of the event stream's creation time.
const reportingStartTimeout = 2 * time.Second

// errStartUnknown: the reporting start could not be looked up, so no event can be validated against it; the
// request is answered 503 (retryable) rather than risk accepting an event no partition will ever file.
var errStartUnknown = errors.New("ingest: the pipeline's reporting start (USAGE_EVENTS creation) is unknown")

// reportingStart returns when this pipeline started reporting: the creation time of the event stream, the
// instant from which every aggregator partition marks the periods it closes (docs/DESIGN.md). It is looked up
// until known, then cached (a stream's creation time never changes); ok is false while it is unknown.
func (s *Service) reportingStart(ctx context.Context) (start time.Time, ok bool) {
	if ns := s.since.Load(); ns != 0 {
		return time.Unix(0, ns), true
	}
	ctx, cancel := context.WithTimeout(ctx, reportingStartTimeout)
	defer cancel()
	created, err := s.bus.StreamCreated(ctx, bus.StreamEvents)
	if err != nil || created.IsZero() {
		return time.Time{}, false
	}
	s.since.Store(created.UnixNano())
	return created, true
}

// closedBeforeStart rejects, as too_old, an event whose period had already closed (end plus allowed lateness)
// when the pipeline started reporting: no partition marks such a period, so it could never be filed, and
// accepting it would lose it silently. e must already be valid against the catalog.
func (s *Service) closedBeforeStart(e *events.Event, start time.Time) *events.Rejection {
	if !e.Time.Before(start) {
		return nil // its period ends after start
	}
	p, ok := s.catalog.Product(e.Data.Product)
	if !ok {
		return nil
	}
	period := p.Period.Containing(e.Time)
	if closes := period.End.Add(p.AllowedLateness); closes.After(start) {
		return nil
	}
	return &events.Rejection{Reason: events.ReasonTooOld, Field: "time", Message: fmt.Sprintf(
		"its period %s to %s closed before this pipeline started reporting at %s; such periods are never filed",
		period.Start.Format(time.RFC3339), period.End.Format(time.RFC3339), start.UTC().Format(time.RFC3339))}
}
