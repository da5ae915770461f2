package events

import (
	"fmt"
	"time"
)

// ClosedBeforeStart rejects, as too_old, an event whose period had already closed (end plus allowed
// lateness) when the pipeline started reporting (start: the creation of the event stream, from which every
// aggregator partition marks the periods it closes): no partition marks such a period, so it could never be
// filed, and accepting it would lose it silently. e must already be valid against the catalog (Validate);
// an event of an unknown product passes.
func (c *Catalog) ClosedBeforeStart(e *Event, start time.Time) *Rejection {
	if !e.Time.Before(start) {
		return nil // its period ends after start
	}
	p, ok := c.Product(e.Data.Product)
	if !ok {
		return nil
	}
	period := p.Period.Containing(e.Time)
	if closes := period.End.Add(p.AllowedLateness); closes.After(start) {
		return nil
	}
	return &Rejection{Reason: ReasonTooOld, Field: "time", Message: fmt.Sprintf(
		"its period %s to %s closed before this pipeline started reporting at %s; such periods are never filed",
		period.Start.Format(time.RFC3339), period.End.Format(time.RFC3339), start.UTC().Format(time.RFC3339))}
}
