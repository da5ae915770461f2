package lineage

import (
	"context"
	"fmt"
	"slices"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// fileRef describes entry e, and rec's place in it; when Connect is configured and the entry has a file, the
// file's status and rec's Connect record are read from Connect.
func (s *Service) fileRef(ctx context.Context, e *ledger.Entry, rec *Record) *FileRef {
	f := &FileRef{LedgerKey: e.Key, Revision: e.Revision, Part: e.Part, Parts: e.Parts, State: string(e.State),
		Reason: e.Reason, FileID: e.FileID, LedgerStatus: e.Status, BaseParked: e.BaseParked}
	if rec != nil {
		f.Excluded = slices.Contains(e.Excluded, rec.RecordID)
	}
	switch {
	case e.FileID == "":
		f.Note = "no Connect file yet"
	case s.connect == nil:
		f.Note = "Connect not asked (no Connect URL and key given)"
	default:
		s.readConnect(ctx, f, e, rec)
	}
	return f
}

// readConnect fills the Connect file's status and rec's Connect record; what cannot be read goes to the note.
func (s *Service) readConnect(ctx context.Context, f *FileRef, e *ledger.Entry, rec *Record) {
	file, err := s.connect.GetFile(ctx, e.FileID)
	if err != nil {
		f.Note = fmt.Sprintf("Connect file %s: %v", e.FileID, err)
		return
	}
	f.ConnectStatus = string(file.Status)
	if rec == nil || f.Excluded {
		return
	}
	r, note, err := s.connectRecord(ctx, e, &rec.Record)
	if err != nil {
		f.Note = fmt.Sprintf("Connect records of %s: %v", e.FileID, err)
		return
	}
	f.Note = note
	if r != nil {
		f.ConnectRecord, f.RecordStatus = r.ID, string(r.Status)
	}
}

// connectRecord finds rec's Connect record in e's file. The API does not expose the workbook's record_id, so
// the record is the one of the file with rec's asset (for products searched by asset.id, the subscription),
// item and tier: a file holds one record per subscription, item and tier. For products whose assets Connect
// finds by a parameter, the asset cannot be told from the subscription: a single candidate is taken, several
// are reported.
func (s *Service) connectRecord(ctx context.Context, e *ledger.Entry, r *events.PeriodRecord) (*usageapi.Record, string, error) {
	terms := []usageapi.Term{usageapi.Eq("usagefile.id", e.FileID)}
	byAsset := e.Spec.AssetSearch == "" || e.Spec.AssetSearch == events.DefaultAssetSearch
	if byAsset {
		terms = append(terms, usageapi.Eq("asset.id", r.Subscription))
	}
	all, err := s.connect.Records(terms...).Collect(ctx)
	if err != nil {
		return nil, "", err
	}
	spec := e.Spec.Items[r.Item]
	var found []usageapi.Record
	for _, c := range all {
		if itemMatches(c.Item, spec) && tierOf(c) == r.Tier && (!byAsset || assetOf(c) == r.Subscription) {
			found = append(found, c)
		}
	}
	switch {
	case len(found) == 1:
		return &found[0], "", nil
	case len(found) == 0:
		return nil, fmt.Sprintf("Connect lists no record of file %s for this asset, item and tier", e.FileID), nil
	}
	return nil, fmt.Sprintf("%d records of file %s match item %s and tier %d (assets found by %s cannot be told apart)",
		len(found), e.FileID, r.Item, r.Tier, e.Spec.AssetSearch), nil
}

// itemMatches reports whether a Connect record's item is the one the workbook searched for.
func itemMatches(it *usageapi.RecordItem, spec ledger.ItemSpec) bool {
	if it == nil {
		return false
	}
	switch spec.Criteria {
	case "item.local_id":
		return it.LocalID == spec.Value
	case "item.global_id":
		return it.ID == spec.Value
	}
	return it.MPN == spec.Value
}

func tierOf(r usageapi.Record) int {
	if r.Tier == nil {
		return 0
	}
	return *r.Tier
}

func assetOf(r usageapi.Record) string {
	if r.Asset != nil && r.Asset.ID != "" {
		return r.Asset.ID
	}
	return r.AssetID
}
