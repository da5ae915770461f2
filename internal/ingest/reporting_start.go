package ingest

import (
	"context"
	"errors"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
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
