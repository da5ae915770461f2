package reconcile

import (
	"context"
	"fmt"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// pageSize is the page size of the list calls (Connect's documented maximum).
const pageSize = 1000

// ReadFiles lists every usage file of the catalog's products, deleted ones included.
func ReadFiles(ctx context.Context, c *usageapi.Client, cat *events.Catalog) ([]usageapi.File, error) {
	files, err := c.Files(usageapi.In("product.id", productIDs(cat)...), usageapi.Limit(pageSize)).Collect(ctx)
	if err != nil {
		return nil, fmt.Errorf("reconcile: list files: %w", err)
	}
	return files, nil
}

// Billed reports whether a file's records count as reported: the provider accepted it (or closed it since).
func Billed(s usageapi.FileStatus) bool {
	return s == usageapi.FileStatusAccepted || s == usageapi.FileStatusClosed
}

// ReadRecords sums the records of the billed files among files (see ReadFiles) per key (see Keyer), the
// records list narrowed by filters. Records of files not in files (created since) are left out; records it
// cannot key (an item the catalog does not have, an asset the map lacks) are described in unmapped.
func ReadRecords(ctx context.Context, c *usageapi.Client, k Keyer, files []usageapi.File, filters ...usageapi.Term) (Totals, []string, error) {
	byID := make(map[string]*usageapi.File, len(files))
	for i := range files {
		byID[files[i].ID] = &files[i]
	}
	terms := append([]usageapi.Term{usageapi.In("product.id", productIDs(k.Catalog)...),
		usageapi.In("status", usageapi.RecordStatusApproved, usageapi.RecordStatusClosed), usageapi.Limit(pageSize)}, filters...)
	totals := Totals{}
	var unmapped []string
	for rec, err := range c.Records(terms...).All(ctx) {
		if err != nil {
			return nil, nil, fmt.Errorf("reconcile: list records: %w", err)
		}
		f := fileOf(&rec, byID)
		if f == nil || !Billed(f.Status) {
			continue
		}
		key, qty, amount, err := k.recordKey(&rec, f)
		if err != nil {
			unmapped = append(unmapped, fmt.Sprintf("record %s of file %s: %v", rec.ID, f.ID, err))
			continue
		}
		totals.Add(key, qty, amount)
	}
	return totals, unmapped, nil
}

func fileOf(rec *usageapi.Record, byID map[string]*usageapi.File) *usageapi.File {
	if rec.UsageFile == nil {
		return nil
	}
	return byID[rec.UsageFile.ID]
}

func productIDs(cat *events.Catalog) []string {
	ids := make([]string, len(cat.Products))
	for i := range cat.Products {
		ids[i] = cat.Products[i].ID
	}
	return ids
}
