package submitter

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"github.com/usagepipe/usagepipe/pkg/usagefile"
)

// repair handles an invalid file: it reads Connect's processed workbook and records the records marked
// invalid (with Connect's error text) as about to be excluded; the next step dead-letters and excludes them
// (publishExclusion), and the one after uploads the rest. A file invalid as a whole (no record marked) is
// parked as failed with Connect's error detail.
func (d *driver) repair(ctx context.Context, e *ledger.Entry) error {
	f, err := d.connect.GetFile(ctx, e.FileID)
	if err != nil {
		return err
	}
	if f.Status != usageapi.FileStatusInvalid || !uploadedAt(f).Equal(e.InvalidUploadAt) {
		return d.observe(e, f) // re-uploaded or changed meanwhile
	}
	failing, err := d.failingRecords(ctx, f)
	if err != nil {
		return err
	}
	if len(failing) == 0 {
		return permanent("invalid_file", fmt.Errorf("the Connect file %s is invalid without an invalid record: %s", f.ID, f.ErrorDetail))
	}
	part, err := d.partSources(ctx, e)
	if err != nil {
		return err
	}
	return d.recordExclusion(e, part, failing, reasonConnectInvalid)
}

// failingRecords reads the processed workbook of f: record id → error text of each invalid row.
func (d *driver) failingRecords(ctx context.Context, f *usageapi.FileDetail) (map[string]string, error) {
	if f.ProcessedFileURI == "" {
		return nil, permanent("invalid_file", fmt.Errorf("the Connect file %s is invalid without a processed workbook: %s", f.ID, f.ErrorDetail))
	}
	data, err := d.connect.Download(ctx, f.ProcessedFileURI)
	if err != nil {
		return nil, err
	}
	wb, err := usagefile.Read(bytes.NewReader(data), usagefile.ReadOptions{})
	if err != nil {
		return nil, fmt.Errorf("submitter: processed workbook of %s: %w", f.ID, err)
	}
	failing := map[string]string{}
	for _, r := range wb.Records {
		if strings.EqualFold(r.Status, usagefile.StatusInvalid) && r.RecordID != "" {
			failing[r.RecordID] = cmpOr(r.Error, "invalid")
		}
	}
	return failing, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
