package aggregator

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Warnings reports settings that are valid but risky, one line each; Check reports the invalid ones. The
// only one today: a dedup horizon shorter than some products' max event age, so that an event resent after
// the horizon but within its max age (a producer retrying a day-old batch) is counted again.
func (o Options) Warnings() []string {
	horizon := o.DedupHorizon
	if horizon <= 0 {
		horizon = DefaultDedupHorizon
	}
	if o.Catalog == nil {
		return nil
	}
	var ids []string
	longest := time.Duration(0)
	for i := range o.Catalog.Products {
		if p := &o.Catalog.Products[i]; p.MaxEventAge > horizon {
			ids = append(ids, p.ID)
			longest = max(longest, p.MaxEventAge)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	return []string{fmt.Sprintf("dedup horizon %v is shorter than the max event age (up to %v) of products %s: "+
		"an event resent after the horizon but within its max age is counted again", horizon, longest, strings.Join(ids, ", "))}
}
