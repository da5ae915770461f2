package usageapitest_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"github.com/usagepipe/usagepipe/pkg/usagefile"
	"github.com/xuri/excelize/v2"
)

// rawWorkbook writes a records sheet cell by cell (text cells), so tests can send what usagefile's writer
// refuses to write.
func rawWorkbook(t *testing.T, header []string, rows ...[]string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	if err := f.SetSheetName("Sheet1", "records"); err != nil {
		t.Fatal(err)
	}
	for i, row := range append([][]string{header}, rows...) {
		cells := make([]any, len(row))
		for j, c := range row {
			cells[j] = c
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("records", cell, &cells); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var qtHeader = []string{"record_id", "item_search_criteria", "item_search_value", "quantity", "start_time_utc", "end_time_utc", "asset_search_criteria", "asset_search_value"}

// qtRow is a QT row that is valid for the target unless changed by edit (column → value).
func (tg *target) qtRow(id string, edit map[string]string) []string {
	day := tg.day(1)
	row := []string{tg.run + id, "item.mpn", tg.fx.itemMPN, "2", day.Format(usagefile.TimeLayout),
		day.Add(24*time.Hour - time.Second).Format(usagefile.TimeLayout), "asset.id", tg.fx.assetID}
	for col, v := range edit {
		for i, h := range qtHeader {
			if h == col {
				row[i] = v
			}
		}
	}
	return row
}

// invalidCase is one bad row and, for the emulator, the column its error must name. Cases Connect does
// not document as invalid (the emulator's stricter reading) are only sent to the emulator.
type invalidCase struct {
	id, column string
	edit       map[string]string
	documented bool
}

func (tg *target) invalidCases() []invalidCase {
	tooPrecise := "1." + strings.Repeat("1", int(tg.fx.precision)+1)
	all := []invalidCase{
		{"unknown-item", "item_search_value", map[string]string{"item_search_value": "NO_SUCH_ITEM"}, true},
		{"unknown-asset", "asset_search_value", map[string]string{"asset_search_value": "AS-9999-9999-9999"}, true},
		{"bad-number", "quantity", map[string]string{"quantity": "12abc"}, true},
		{"too-precise", "quantity", map[string]string{"quantity": tooPrecise}, false},
		{"bad-date", "start_time_utc", map[string]string{"start_time_utc": "2026-13-45 00:00:00"}, true},
		{"end-before-start", "end_time_utc", map[string]string{"end_time_utc": tg.day(0).Format(usagefile.TimeLayout)}, false},
		{"good", "record_id", nil, true}, // the duplicate of the first row (good) is the bad one
	}
	if tg.emu != nil {
		return all
	}
	return slices.DeleteFunc(all, func(c invalidCase) bool { return !c.documented })
}

// testInvalidWorkbook uploads one good row and one bad row per kind of error: the file goes invalid, every
// record it lists is invalid (Connect's record statuses include invalid; the emulator stores every row so),
// and the processed workbook explains each error; a fixed workbook then makes it ready.
func testInvalidWorkbook(t *testing.T, tg *target) {
	f := tg.newFile(t, "invalid")
	rows := [][]string{tg.qtRow("good", nil)}
	cases := tg.invalidCases()
	for _, c := range cases {
		rows = append(rows, tg.qtRow(c.id, c.edit))
	}
	f = tg.upload(t, f.ID, rawWorkbook(t, qtHeader, rows...))
	wantStatus(t, f, usageapi.FileStatusInvalid)
	if f.ErrorDetail == "" {
		t.Fatalf("invalid file without error_detail")
	}
	recs := tg.recordsOf(t, tg.vendor, f.ID)
	for _, r := range recs {
		if r.Status != usageapi.RecordStatusInvalid {
			t.Fatalf("record %s of an invalid file is %q, want invalid", r.ID, r.Status)
		}
	}
	if tg.emulated(t, "exact valid/invalid counts and every row stored as an invalid record") {
		if f.Records == nil || f.Records.Invalid != len(cases) || f.Records.Valid != 1 {
			t.Fatalf("invalid file: records %+v; want %d invalid, 1 valid", f.Records, len(cases))
		}
		if len(recs) != len(rows) {
			t.Fatalf("an invalid file of %d rows stored %d records", len(rows), len(recs))
		}
	} else {
		t.Logf("real Connect: invalid file with records %+v lists %d records", f.Records, len(recs))
	}
	if invalid := tg.recordsWhere(t, f.ID, usageapi.RecordStatusInvalid); len(invalid) != len(recs) {
		t.Fatalf("status=invalid lists %d of the %d records of an invalid file", len(invalid), len(recs))
	}
	processed, err := tg.vendor.Download(ctx(t), f.ProcessedFileURI)
	if err != nil {
		t.Fatal(err)
	}
	checkProcessedErrors(t, tg, readWorkbook(t, processed), cases)

	f = tg.upload(t, f.ID, tg.validWorkbook(t, "invalid-fixed", 2))
	wantStatus(t, f, usageapi.FileStatusReady)
	if recs := tg.recordsOf(t, tg.vendor, f.ID); len(recs) != 2 || recs[0].Status != usageapi.RecordStatusValid ||
		recs[1].Status != usageapi.RecordStatusValid {
		t.Fatalf("after the fixed upload the file lists %+v, want its 2 valid records only", recs)
	}
}

// recordsWhere lists the records of a file that have a status.
func (tg *target) recordsWhere(t *testing.T, fileID string, status usageapi.RecordStatus) []usageapi.Record {
	t.Helper()
	recs, err := tg.vendor.Records(usageapi.Eq("usagefile.id", fileID), usageapi.Eq("status", string(status))).Collect(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// testOutsidePeriod uploads records whose times leave the file's period (one starts the day before it, one
// ends the day after it): a processed workbook of the real Connect marks such records valid, so the file is
// ready and its records are valid.
func testOutsidePeriod(t *testing.T, tg *target) {
	f := tg.newFile(t, "outside-period")
	before := tg.day(0).AddDate(0, 0, -1)
	after := tg.period.To.Time().AddDate(0, 0, 1)
	f = tg.upload(t, f.ID, rawWorkbook(t, qtHeader,
		tg.qtRow("starts-before", map[string]string{"start_time_utc": before.Format(usagefile.TimeLayout)}),
		tg.qtRow("ends-after", map[string]string{"end_time_utc": after.Format(usagefile.TimeLayout)})))
	wantStatus(t, f, usageapi.FileStatusReady)
	recs := tg.recordsOf(t, tg.vendor, f.ID)
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	for _, r := range recs {
		if r.Status != usageapi.RecordStatusValid {
			t.Fatalf("record %s: status %s, want valid", r.ID, r.Status)
		}
	}
	starts := []time.Time{recs[0].StartDate.UTC(), recs[1].StartDate.UTC()}
	if !slices.ContainsFunc(starts, func(s time.Time) bool { return s.Equal(before) }) {
		t.Fatalf("record starts %v: none is %v, the day before the period", starts, before)
	}
}

// generalAttribute reads one attribute of a processed workbook's general sheet (attribute_id,
// attribute_value rows); ok is false when the sheet or the attribute is missing.
func generalAttribute(t *testing.T, workbook []byte, id string) (string, bool) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(workbook))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	rows, err := f.GetRows("general")
	if err != nil {
		return "", false
	}
	for _, row := range rows {
		if len(row) >= 2 && row[0] == id {
			return row[1], true
		}
	}
	return "", false
}

// checkProcessedErrors checks the processed workbook: the good row valid, every bad one invalid with an
// explanation (Connect's is a cell comment, the emulator writes it in the error column too; usagefile reads
// either), naming the culprit column against the emulator.
func checkProcessedErrors(t *testing.T, tg *target, wb *usagefile.Workbook, cases []invalidCase) {
	t.Helper()
	if tg.emulated(t, "the processed workbook lists the rows in upload order") && len(wb.Records) != len(cases)+1 {
		t.Fatalf("processed workbook has %d rows, want %d", len(wb.Records), len(cases)+1)
	}
	rows := map[string][]usagefile.ReadRecord{}
	for _, r := range wb.Records {
		rows[r.RecordID] = append(rows[r.RecordID], r)
	}
	if good := rows[tg.run+"good"]; len(good) != 2 || good[0].Status != "valid" || good[0].Error != "" {
		t.Fatalf("good row and its duplicate: %+v", good)
	}
	for _, c := range cases {
		got := rows[tg.run+c.id]
		if len(got) == 0 {
			t.Fatalf("row %s is not in the processed workbook", c.id)
		}
		r := got[len(got)-1] // the duplicate of "good" is its second row
		if r.Status != "invalid" || r.Error == "" {
			t.Fatalf("row %s: status %q error %q, want invalid with an explanation", c.id, r.Status, r.Error)
		}
		if tg.emu != nil && !strings.Contains(r.Error, c.column) {
			t.Errorf("row %s: error %q does not name %s", c.id, r.Error, c.column)
		}
		if tg.emu != nil && !slices.ContainsFunc(r.Cells, func(e usagefile.CellError) bool { return e.Column == c.column && e.Text != "" }) {
			t.Errorf("row %s: no comment on its %s cell (comments %+v)", c.id, c.column, r.Cells)
		}
	}
}

// testUploadRefused checks what is refused at upload time (400), leaving the file as it was. Connect
// documents the empty numeric cell; the other structural refusals are the emulator's reading, and a real
// Connect may as well take such a workbook and mark the file invalid.
func testUploadRefused(t *testing.T, tg *target) {
	f := tg.newFile(t, "refused")
	cases := map[string][]byte{
		"empty numeric cell": rawWorkbook(t, qtHeader, tg.qtRow("empty-qty", map[string]string{"quantity": ""})),
		"empty amount (QT)":  rawWorkbook(t, append(qtHeader[:len(qtHeader):len(qtHeader)], "amount"), tg.qtRow("empty-amount", nil)),
	}
	if tg.emulated(t, "a workbook without a records sheet, a column, or with a duplicate column is refused at upload") {
		cases["missing column"] = rawWorkbook(t, qtHeader[:3], []string{"r1", "item.mpn", tg.fx.itemMPN})
		cases["no records sheet"] = noRecordsSheet(t)
		cases["duplicate column"] = rawWorkbook(t, append(qtHeader[:len(qtHeader):len(qtHeader)], "quantity"), append(tg.qtRow("dup", nil), "1"))
	}
	for name, wb := range cases {
		_, err := tg.vendor.UploadFile(ctx(t), f.ID, "bad.xlsx", bytes.NewReader(wb))
		wantAPIError(t, "upload "+name, err, 400)
	}
	got, err := tg.vendor.GetFile(ctx(t), f.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, got, usageapi.FileStatusDraft)
	tg.uploadNotWorkbook(t)
}

// uploadNotWorkbook sends a CSV as the workbook: the emulator refuses it (400); a real Connect may refuse
// it or take it and mark the file invalid, and either is fine.
func (tg *target) uploadNotWorkbook(t *testing.T) {
	f := tg.newFile(t, "not-a-workbook")
	_, err := tg.vendor.UploadFile(ctx(t), f.ID, "bad.xlsx", bytes.NewReader([]byte("record_id,quantity\nr1,1\n")))
	if tg.emu != nil || err != nil {
		wantAPIError(t, "upload not a workbook", err, 400)
		return
	}
	wantStatus(t, tg.waitFile(t, f.ID, usageapi.ProcessingDone), usageapi.FileStatusInvalid)
}

func noRecordsSheet(t *testing.T) []byte {
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testIllegalTransitions checks that Connect's state machine refuses what it does not allow, with 400
// and an error body.
func testIllegalTransitions(t *testing.T, tg *target) {
	c := ctx(t)
	draft := tg.newFile(t, "illegal-draft")
	_, err := tg.vendor.SubmitFile(c, draft.ID)
	tg.refused(t, "submit a draft", err)
	ready := tg.readyFile(t, "illegal-ready", 1)
	if p := tg.provider; p != nil {
		_, err = p.AcceptFile(c, ready.ID, "")
		tg.refused(t, "accept a ready file", err)
		_, err = p.CloseFile(c, draft.ID)
		tg.refused(t, "close a draft", err)
	}
	deleted, err := tg.vendor.DeleteFile(c, draft.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, deleted, usageapi.FileStatusDeleted)
	_, err = tg.vendor.UploadFile(c, draft.ID, "late.xlsx", bytes.NewReader(tg.validWorkbook(t, "illegal-late", 1)))
	if tg.emu != nil || usageapi.StatusOf(err) != 404 { // a real Connect may no longer find a deleted file
		tg.refused(t, "upload to a deleted file", err)
	}
	_, err = tg.vendor.GetFile(c, "UF-2000-01-0000-0000")
	if !usageapi.IsNotFound(err) {
		t.Fatalf("get an unknown file: %v, want 404", err)
	}
	tg.allowSubmit(t)
	pending, err := tg.vendor.SubmitFile(c, ready.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, pending, usageapi.FileStatusPending)
	_, err = tg.vendor.SubmitFile(c, ready.ID)
	tg.refused(t, "submit a pending file", err)
	_, err = tg.vendor.DeleteFile(c, ready.ID)
	tg.refused(t, "delete a pending file", err)
	_, err = tg.vendor.UploadFile(c, ready.ID, "again.xlsx", bytes.NewReader(tg.validWorkbook(t, "illegal-again", 1)))
	tg.refused(t, "upload to a pending file", err)
	if p := tg.provider; p != nil {
		_, err = p.CloseFile(c, ready.ID)
		tg.refused(t, "close a pending file", err)
	}
}

// refused checks a 400 with an error body (USG_001 from the emulator).
func (tg *target) refused(t *testing.T, what string, err error) {
	t.Helper()
	wantAPIError(t, what, err, 400)
	var apiErr *usageapi.APIError
	if !errors.As(err, &apiErr) || len(apiErr.Errors) == 0 || tg.emu != nil && apiErr.Code != "USG_001" {
		t.Fatalf("%s: %v: want an error body (USG_001 from the emulator)", what, err)
	}
}

// testUpdateAndDelete updates a file's fields, deletes a ready file, and finds that find-or-create then
// makes a new one (a deleted file does not count).
func testUpdateAndDelete(t *testing.T, tg *target) {
	c := ctx(t)
	f := tg.newFile(t, "update")
	up, err := tg.vendor.UpdateFile(c, f.ID, usageapi.UpdateFileRequest{Description: "updated description", Note: "a note"})
	if err != nil || up.Description != "updated description" || up.Note != "a note" {
		t.Fatalf("UpdateFile = %+v, %v", up, err)
	}
	got, err := tg.vendor.GetFile(c, f.ID)
	if err != nil || got.Description != "updated description" {
		t.Fatalf("GetFile after update: %+v, %v", got, err)
	}
	ready := tg.readyFile(t, "delete-ready", 1)
	if d, err := tg.vendor.DeleteFile(c, ready.ID); err != nil || d.Status != usageapi.FileStatusDeleted {
		t.Fatalf("delete a ready file: %+v, %v", d, err)
	}
	if recs := tg.recordsOf(t, tg.vendor, ready.ID); len(recs) != 0 {
		t.Fatalf("a deleted file still has %d records", len(recs))
	}
	again, created, err := tg.vendor.FindOrCreateFile(c, tg.createRequest("delete-ready"))
	if err == nil {
		tg.discardAtEnd(t, again.ID)
	}
	if err != nil || !created || again.ID == ready.ID {
		t.Fatalf("find-or-create after delete: %v, created %v, id %s (deleted %s)", err, created, again.ID, ready.ID)
	}
}

// testRejectAndReupload has the provider reject a file, then the vendor fixes and resubmits it.
func testRejectAndReupload(t *testing.T, tg *target) {
	provider := tg.needProvider(t)
	c := ctx(t)
	f := tg.readyFile(t, "reject", 2)
	tg.allowSubmit(t)
	if _, err := tg.vendor.SubmitFile(c, f.ID); err != nil {
		t.Fatal(err)
	}
	f, err := provider.RejectFile(c, f.ID, "quantities look wrong")
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, f, usageapi.FileStatusRejected)
	if f.RejectionNote != "quantities look wrong" {
		t.Fatalf("rejection_note %q", f.RejectionNote)
	}
	for _, r := range tg.recordsOf(t, provider, f.ID) {
		if r.Status != usageapi.RecordStatusRejected {
			t.Fatalf("record %s of a rejected file is %s", r.ID, r.Status)
		}
	}
	f = tg.upload(t, f.ID, tg.validWorkbook(t, "reject-fixed", 3))
	wantStatus(t, f, usageapi.FileStatusReady)
	if n := len(tg.recordsOf(t, tg.vendor, f.ID)); n != 3 {
		t.Fatalf("after re-upload %d records, want the 3 new ones", n)
	}
	if f, err = tg.vendor.SubmitFile(c, f.ID); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, f, usageapi.FileStatusPending)
}
