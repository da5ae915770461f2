package usageapi

import (
	"encoding/json"
	"testing"
	"time"
)

func TestDate(t *testing.T) {
	d, err := ParseDate("2026-02-28")
	if err != nil || d != (Date{2026, time.February, 28}) || d.String() != "2026-02-28" {
		t.Fatalf("ParseDate = %v, %v", d, err)
	}
	if _, err := ParseDate("2026-02-30"); err == nil {
		t.Error("accepted 2026-02-30")
	}
	if got := DateOf(time.Date(2026, 11, 24, 23, 59, 0, 0, time.UTC)); got != (Date{2026, 11, 24}) || !got.Time().Equal(time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("DateOf = %v", got)
	}
	var p Period
	if err := json.Unmarshal([]byte(`{"from":"2026-11-01","to":"2026-11-30T23:59:59+00:00"}`), &p); err != nil {
		t.Fatal(err)
	}
	if p.To != (Date{2026, 11, 30}) {
		t.Errorf("a date-time 'to' decoded as %v", p.To)
	}
	b, _ := json.Marshal(Period{From: Date{2026, 11, 1}})
	if string(b) != `{"from":"2026-11-01"}` {
		t.Errorf("period marshals as %s", b)
	}
}

func TestRecordJSON(t *testing.T) {
	in := `{"id":"UR-2026-11-0001-0002-0003-0004","usage":0.12345678901234567890,"amount":12.5,"tier":0,
		"status":"approved","category":"generic_category","usagefile":{"id":"UF-1","schema":"tr"},
		"start_date":"2026-11-24T00:00:00+00:00","params":[{"parameter_name":"v.region","parameter_value":null}]}`
	var r Record
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if r.Usage.String() != "0.12345678901234567890" || r.Amount.String() != "12.5" || r.Tier == nil || *r.Tier != 0 ||
		r.Category.ID != "generic_category" || r.UsageFile.Schema != SchemaTR || r.StartDate.IsZero() {
		t.Errorf("decoded %+v", r)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"UR-2026-11-0001-0002-0003-0004","usage":0.12345678901234567890,"amount":12.5,"tier":0,"status":"approved",` +
		`"category":"generic_category","params":[{"parameter_name":"v.region"}],"start_date":"2026-11-24T00:00:00Z","usagefile":{"id":"UF-1","schema":"tr"}}`
	if string(out) != want {
		t.Errorf("marshals as\n%s\nwant\n%s", out, want)
	}
	withName, _ := json.Marshal(RecordCategory{ID: "c", Name: "C"})
	if string(withName) != `{"id":"c","name":"C"}` {
		t.Errorf("category with a name marshals as %s", withName)
	}
}

func TestFileDetailJSON(t *testing.T) {
	in := `{"id":"UF-1","external_id":"k","status":"ready","sub_status":"processed","usage_file_uri":"/u","records":{"valid":3,"invalid":0,"closed":0},
		"vendor":{"id":"VA-1"},"period":{"from":"2026-11-24","to":"2026-11-24"},"stats":{"uploaded":3},"events":{"created":{"at":"2026-11-25T03:24:28.137141+00:00","by":{"id":"UR-1","name":"A"}}}}`
	var f FileDetail
	if err := json.Unmarshal([]byte(in), &f); err != nil {
		t.Fatal(err)
	}
	if f.ID != "UF-1" || f.Status != FileStatusReady || f.SubStatus != FileSubStatusProcessed || f.Records.Valid != 3 ||
		f.Vendor.ID != "VA-1" || f.Period.From != (Date{2026, 11, 24}) || f.Stats.Uploaded != 3 || f.Events.Created.By.Name != "A" {
		t.Errorf("decoded %+v", f)
	}
	list, _ := json.Marshal(f.File)
	var m map[string]any
	_ = json.Unmarshal(list, &m)
	for _, k := range []string{"sub_status", "usage_file_uri", "records"} {
		if _, ok := m[k]; ok {
			t.Errorf("list item carries detail-only %q", k)
		}
	}
}

func TestFileStatusProcessing(t *testing.T) {
	for s, want := range map[FileStatus]bool{FileStatusUploading: true, FileStatusUploaded: true, FileStatusProcessing: true,
		FileStatusDraft: false, FileStatusReady: false, FileStatusInvalid: false, FileStatusPending: false} {
		if s.Processing() != want || ProcessingDone(s) == want {
			t.Errorf("%s: Processing() = %v", s, s.Processing())
		}
	}
}
