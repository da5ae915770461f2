package submitter

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// Records to dead-letter are written to the ledger first, as the entry's exclusion (ledger.Exclusion); the
// next step publishes their dead letters and only then excludes them. A step cut short after publishing
// leaves the exclusion in the ledger, so the step that resumes it publishes the same dead letters again,
// with the same Nats-Msg-Id, which USAGE_DLQ's duplicate window drops: Options.Check keeps the resumption
// well within that window.

// maxExclusionText bounds each record's reason kept in the ledger.
const maxExclusionText = 300

// recordExclusion records the records of part named in failing (not excluded yet) as about to be
// dead-lettered for reason. A repair that finds nothing new, or would exclude more than MaxExcluded
// records, parks the entry instead.
func (d *driver) recordExclusion(e *ledger.Entry, part []source, failing map[string]string, reason events.Reason) error {
	x := &ledger.Exclusion{Reason: reason, Records: map[string]string{}}
	for _, src := range part {
		if why, bad := failing[src.id]; bad {
			x.Records[src.id] = clip(why, maxExclusionText)
		}
	}
	switch {
	case len(x.Records) == 0:
		return permanent("invalid_again", fmt.Errorf("no new failing record among %d named: %s", len(failing),
			clip(strings.Join(slices.Sorted(maps.Values(failing)), "; "), 300)))
	case len(e.Excluded)+len(x.Records) > d.maxExcluded:
		return permanent("too_many_invalid", fmt.Errorf("%d records would be dead-lettered (limit %d); first error: %s",
			len(e.Excluded)+len(x.Records), d.maxExcluded, x.Records[slices.Min(slices.Collect(maps.Keys(x.Records)))]))
	}
	e.Excluding = x
	return nil
}

// publishExclusion dead-letters the records of the entry's exclusion and then excludes them: the entry
// moves to repairing (the rest is uploaded next) or, when nothing is left, to empty.
func (d *driver) publishExclusion(ctx context.Context, e *ledger.Entry) error {
	part, err := d.partSources(ctx, e)
	if err != nil {
		return err
	}
	x := e.Excluding
	var records []source
	for _, src := range part {
		if _, ok := x.Records[src.id]; ok {
			records = append(records, src)
		}
	}
	if len(records) > 0 {
		if err := d.deadLetter(ctx, e, records, x.Records, x.Reason); err != nil {
			return err
		}
	}
	e.Excluded = append(e.Excluded, slices.Collect(maps.Keys(x.Records))...)
	slices.Sort(e.Excluded)
	e.Excluded, e.Excluding = slices.Compact(e.Excluded), nil
	note := fmt.Sprintf("%d records dead-lettered (%s)", len(x.Records), x.Reason)
	if len(e.Excluded) >= e.Records {
		e.Reason = "every record was dead-lettered"
		return e.MoveTo(ledger.StateEmpty, d.now(), note)
	}
	return e.MoveTo(ledger.StateRepairing, d.now(), note)
}
