package reconcile

import (
	"context"
	"fmt"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// FileRecord is one record of a usage file as Connect holds it: the key it bills and its value (one record).
type FileRecord struct {
	Key    Key
	Value  Value
	Status usageapi.RecordStatus
}

// ReadFileRecords returns the records of every file in files (see ReadFiles), whatever their status, keyed
// by k, by Connect file id. Records of files not in files are left out; records it cannot key
// are described in unmapped, by file id.
func ReadFileRecords(ctx context.Context, c *usageapi.Client, k Keyer, files []usageapi.File) (map[string][]FileRecord, map[string][]string, error) {
	byID := make(map[string]*usageapi.File, len(files))
	for i := range files {
		byID[files[i].ID] = &files[i]
	}
	out, unmapped := map[string][]FileRecord{}, map[string][]string{}
	terms := []usageapi.Term{usageapi.In("product.id", productIDs(k.Catalog)...), usageapi.Limit(pageSize)}
	for rec, err := range c.Records(terms...).All(ctx) {
		if err != nil {
			return nil, nil, fmt.Errorf("reconcile: list records: %w", err)
		}
		f := fileOf(&rec, byID)
		if f == nil {
			continue
		}
		key, qty, amount, err := k.recordKey(&rec, f)
		if err != nil {
			unmapped[f.ID] = append(unmapped[f.ID], fmt.Sprintf("record %s: %v", rec.ID, err))
			continue
		}
		v := Value{Quantity: qty, Records: 1}
		if amount != nil {
			v.Amount = *amount
		}
		out[f.ID] = append(out[f.ID], FileRecord{Key: key, Value: v, Status: rec.Status})
	}
	return out, unmapped, nil
}
