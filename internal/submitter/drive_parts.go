package submitter

import (
	"context"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/ledger"
)

// partSources reads the records of the entry's part back from USAGE_AGG — the messages fixed when it was
// planned, cut the same way — checks they are the ones planned (count and digest of their ids), and leaves
// out the excluded ones. Every upload of a file is built from this, so its rows never change except by
// exclusion.
func (d *driver) partSources(ctx context.Context, e *ledger.Entry) ([]source, error) {
	part, ok := d.cache.take(e.Key)
	if !ok {
		var err error
		if part, err = d.readPart(ctx, e); err != nil {
			return nil, err
		}
	}
	if len(part) != e.Records || digestIDs(part) != e.Digest {
		return nil, permanent("source_changed", fmt.Errorf("%s: USAGE_AGG now yields %d records for this part, %d were planned",
			e.Key, len(part), e.Records))
	}
	excluded := e.ExcludedSet()
	kept := part[:0:0]
	for _, src := range part {
		if !excluded[src.id] {
			kept = append(kept, src)
		}
	}
	return kept, nil
}

// readPart reads the records of the entry's part from USAGE_AGG.
func (d *driver) readPart(ctx context.Context, e *ledger.Entry) ([]source, error) {
	_, records, err := readRevision(ctx, d.records, e, nil)
	if err != nil {
		return nil, err
	}
	lo, hi := partRange(e.Part, e.Limit, len(records))
	return records[lo:hi], nil
}
