package events

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name (rewritten with -update), then
// checks that got decodes into a value of v's type that encodes to got again.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file:\n got: %s\nwant: %s", name, got, want)
	}
	back := reflect.New(reflect.TypeOf(v))
	if err := json.Unmarshal(want, back.Interface()); err != nil {
		t.Fatalf("%s does not decode: %v", name, err)
	}
	again, err := json.MarshalIndent(back.Elem().Interface(), "", "  ")
	if err != nil || !bytes.Equal(append(again, '\n'), want) {
		t.Errorf("%s does not round-trip: %s %v", name, again, err)
	}
}

func dec(s string) *Decimal { d := MustDecimal(s); return &d }

func sampleEvents() []Event {
	madrid, _ := time.LoadLocation("Europe/Madrid")
	return []Event{
		{
			SpecVersion: "1.0", ID: "0001", Source: "/meters/eu-1", Type: EventType, Subject: "AS-1234-5678-9012",
			Time: time.Date(2026, 5, 20, 11, 59, 0, 123456789, madrid), DataContentType: "application/json",
			TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", TraceState: "vendor=1",
			Data: Usage{Product: "PRD-100-200-300", Item: "STORAGE-GB-HOURS", Quantity: MustDecimal("12.5000")},
		},
		{
			SpecVersion: "1.0", ID: "0002", Source: "/meters/<eu-2>&\"q\"", Type: "com.example.usage", Subject: "vendor-sub-42",
			Time: time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC),
			Data: Usage{
				Product: "PRD-400-500-600", Item: "TRANSCODE-MIN", Quantity: MustDecimal("-3"), Amount: dec("0.12345678"),
				Tier: 2, Marketplace: "MP-91673", Contract: "CRD-20002",
				Attributes: map[string]string{"z": "last", "user_id": "u-1", "note": "line\nbreak\u2028é\x01"},
			},
		},
	}
}

func TestGoldenEvent(t *testing.T) {
	golden(t, "event.json", sampleEvents()[1])
}

func TestGoldenPacket(t *testing.T) {
	evs := sampleEvents()
	pkt := EncodePacket(evs)
	path := filepath.Join("testdata", "packet.jsonl")
	if *update {
		if err := os.WriteFile(path, pkt, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pkt, want) {
		t.Fatalf("packet differs:\n got: %s\nwant: %s", pkt, want)
	}
	back, err := DecodePacket(want)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || !bytes.Equal(EncodePacket(back), want) {
		t.Fatalf("packet does not round-trip: %+v", back)
	}
	if !back[0].Time.Equal(evs[0].Time) || back[1].Data.Amount.String() != "0.12345678" {
		t.Fatalf("decoded %+v", back)
	}
}

// TestEventEncodingMatchesEncodingJSON guards the hand-written encoder
// against encoding/json's rules for the same struct.
func TestEventEncodingMatchesEncodingJSON(t *testing.T) {
	type plain Event
	for i, e := range sampleEvents() {
		p := plain(e)
		p.Time = p.Time.UTC()
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(p); err != nil {
			t.Fatal(err)
		}
		got, err := e.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if string(got)+"\n" != want.String() {
			t.Errorf("event %d:\n got: %s\nwant: %s", i, got, want.String())
		}
	}
}

func TestDecodePacketErrors(t *testing.T) {
	evs, err := DecodePacket(nil)
	if err != nil || len(evs) != 0 {
		t.Fatalf("empty packet: %v %v", evs, err)
	}
	good := EncodePacket(sampleEvents()[:1])
	if _, err := DecodePacket(append(good, "{bad\n"...)); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("bad line: %v", err)
	}
}

func TestGoldenIngestResponse(t *testing.T) {
	golden(t, "ingest_response.json", IngestResponse{
		Accepted: 1, Duplicates: 1, Rejected: 1,
		Results: []Result{
			{Index: 0, ID: "0001", Source: "/meters/eu-1", Status: StatusAccepted},
			{Index: 1, ID: "0001", Source: "/meters/eu-1", Status: StatusDuplicate},
			{Index: 2, Status: StatusRejected, Reason: ReasonMissingField, Field: "data.quantity", Message: "data.quantity is required"},
		},
	})
}

func TestGoldenRejection(t *testing.T) {
	golden(t, "rejection.json", Rejection{Reason: ReasonBadQuantity, Field: "data.quantity", Message: "quantity 1.255 has 3 decimals, item GB allows decimal(2)"})
}

func sampleRecord() PeriodRecord {
	var d Digest
	d.Add(Key{Source: "/meters/eu-1", ID: "0001"})
	d.Add(Key{Source: "/meters/eu-1", ID: "0002"})
	madrid, _ := time.LoadLocation("Europe/Madrid")
	return PeriodRecord{
		Kind: RecordClosed, Product: "PRD-100-200-300", Contract: "CRD-10001", Marketplace: "MP-91673",
		Subscription: "AS-1234-5678-9012", Item: "STORAGE-GB-HOURS",
		PeriodStart: time.Date(2026, 5, 1, 0, 0, 0, 0, madrid), PeriodEnd: time.Date(2026, 6, 1, 0, 0, 0, 0, madrid),
		Aggregation: AggregationSum, Mode: ModeTotal, Quantity: MustDecimal("25.5"), Amount: dec("3.1"),
		Events: 2, Digest: d.String(), Partition: 7, SourceSeq: 1234,
	}
}

func TestGoldenPeriodRecords(t *testing.T) {
	closed := sampleRecord()
	golden(t, "record_closed.json", closed)
	adj := closed
	adj.Kind, adj.Revision, adj.Aggregation, adj.Mode = RecordAdjustment, 1, AggregationMax, ModeReplace
	adj.Quantity, adj.Previous, adj.Amount, adj.Events, adj.Tier = MustDecimal("30"), dec("25.5"), nil, 1, 3
	golden(t, "record_adjustment.json", adj)
}

func TestGoldenPartitionMark(t *testing.T) {
	golden(t, "partition_mark.json", PartitionMark{
		Product: "PRD-100-200-300", Contract: "CRD-10001",
		PeriodStart: utc("2026-04-30T22:00:00Z"), PeriodEnd: utc("2026-05-31T22:00:00Z"),
		Partition: 3, Partitions: 16, Records: 42,
	})
}

func TestGoldenDeadLetters(t *testing.T) {
	dl := DeadLetter{Stage: "aggregator", Reason: ReasonTooLate, Message: "period closed and adjustments disabled",
		Subject: "usage.events.3", Seq: 99, At: time.Date(2026, 6, 5, 9, 30, 0, 5, time.FixedZone("x", 3600))}
	dl.SetPayload([]byte(`{"id":"0001"}`))
	golden(t, "dead_letter.json", dl)
	if string(dl.OriginalPayload()) != `{"id":"0001"}` {
		t.Errorf("OriginalPayload = %s", dl.OriginalPayload())
	}
	dl.Reason, dl.Stage, dl.Message = ReasonBadJSON, "ingest", "invalid JSON at byte 0"
	dl.SetPayload([]byte("\xff not json"))
	golden(t, "dead_letter_binary.json", dl)
	if string(dl.OriginalPayload()) != "\xff not json" || dl.Payload != nil {
		t.Errorf("binary payload: %q %q", dl.OriginalPayload(), dl.Payload)
	}
}

func TestRecordID(t *testing.T) {
	r := sampleRecord()
	id := r.RecordID()
	again := sampleRecord()
	if len(id) > 64 || id != again.RecordID() {
		t.Fatalf("RecordID %q", id)
	}
	// Golden: a change here changes record ids already submitted to Connect.
	if id != goldenRecordID {
		t.Fatalf("RecordID = %s, want %s", id, goldenRecordID)
	}
	same := r
	same.PeriodStart = r.PeriodStart.UTC()
	same.Quantity, same.Events, same.Marketplace = MustDecimal("1"), 9, ""
	if same.RecordID() != id {
		t.Error("RecordID depends on location, quantity, events or marketplace")
	}
	for name, edit := range map[string]func(*PeriodRecord){
		"product":      func(r *PeriodRecord) { r.Product = "PRD-2" },
		"contract":     func(r *PeriodRecord) { r.Contract = "CRD-2" },
		"subscription": func(r *PeriodRecord) { r.Subscription = "AS-2" },
		"item":         func(r *PeriodRecord) { r.Item = "X" },
		"tier":         func(r *PeriodRecord) { r.Tier = 1 },
		"period":       func(r *PeriodRecord) { r.PeriodStart = r.PeriodStart.Add(time.Nanosecond) },
		"revision":     func(r *PeriodRecord) { r.Revision = 1 },
		"field shift":  func(r *PeriodRecord) { r.Product, r.Contract = r.Product+"\x00"+r.Contract, "" },
	} {
		c := sampleRecord()
		edit(&c)
		if c.RecordID() == id {
			t.Errorf("RecordID ignores %s", name)
		}
	}
}

const goldenRecordID = "834e7b0ccd6c6eb90572343b7fd3a27690a69c4d"

func TestDigest(t *testing.T) {
	keys := []Key{{"s", "1"}, {"s", "2"}, {"t", "1"}, {"", ""}}
	var a, b Digest
	if !a.IsZero() {
		t.Fatal("zero digest not zero")
	}
	for _, k := range keys {
		a.Add(k)
	}
	for i := len(keys) - 1; i >= 0; i-- {
		b.Add(keys[i])
	}
	if a != b || a.IsZero() {
		t.Fatalf("order dependent: %s %s", a, b)
	}
	var p1, p2 Digest
	p1.Add(keys[0])
	p1.Add(keys[1])
	p2.Add(keys[2])
	p2.Add(keys[3])
	p1.Merge(p2)
	if p1 != a {
		t.Fatalf("merge %s != %s", p1, a)
	}
	var sep1, sep2 Digest
	sep1.Add(Key{"a", "bc"})
	sep2.Add(Key{"ab", "c"})
	if sep1 == sep2 {
		t.Fatal("source/id boundary ignored")
	}
	// Carry across the 64-bit halves: all-ones plus one wraps to zero.
	var ones Digest
	for i := range ones {
		ones[i] = 0xff
	}
	var one Digest
	one[15] = 1
	ones.Merge(one)
	if !ones.IsZero() {
		t.Fatalf("carry: %s", ones)
	}
	parsed, err := ParseDigest(a.String())
	if err != nil || parsed != a || len(a.String()) != 32 {
		t.Fatalf("ParseDigest: %v %v", parsed, err)
	}
	for _, s := range []string{"", "zz", strings.Repeat("g", 32)} {
		if _, err := ParseDigest(s); err == nil {
			t.Errorf("ParseDigest(%q) succeeded", s)
		}
	}
}

func BenchmarkEncodePacket(b *testing.B) {
	e, rej := DecodeEvent([]byte(goodEvent))
	if rej != nil {
		b.Fatal(rej)
	}
	evs := make([]Event, 100)
	for i := range evs {
		evs[i] = e
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = EncodePacket(evs)
	}
}

func BenchmarkDigestAdd(b *testing.B) {
	var d Digest
	k := Key{Source: "/meters/eu-1", ID: "5b1f0c2e-0001"}
	b.ReportAllocs()
	for b.Loop() {
		d.Add(k)
	}
}

func TestSortByKey(t *testing.T) {
	evs := []Event{{Source: "b", ID: "1"}, {Source: "a", ID: "2"}, {Source: "a", ID: "10"}}
	SortByKey(evs)
	var got []string
	for _, e := range evs {
		got = append(got, e.Source+"/"+e.ID)
	}
	if strings.Join(got, " ") != "a/10 a/2 b/1" {
		t.Fatalf("sorted: %v", got)
	}
}

// TestResubmittedRecordID: a resubmission has an id of its own, one per dead letter it resubmits, and the
// origin id of the record it comes from.
func TestResubmittedRecordID(t *testing.T) {
	r := sampleRecord()
	a, b := sampleRecord(), sampleRecord()
	a.Resubmits, b.Resubmits = "dlq-7", "dlq-8"
	if a.RecordID() == r.RecordID() || a.RecordID() == b.RecordID() || len(a.RecordID()) != len(goldenRecordID) {
		t.Fatalf("record %s, resubmissions %s and %s", r.RecordID(), a.RecordID(), b.RecordID())
	}
	if a.OriginID() != goldenRecordID || r.OriginID() != goldenRecordID {
		t.Errorf("origin ids %s and %s, want %s", a.OriginID(), r.OriginID(), goldenRecordID)
	}
	again := sampleRecord()
	again.Resubmits = "dlq-7"
	if again.RecordID() != a.RecordID() {
		t.Error("a resubmission's id is not deterministic")
	}
}

func TestCurableReasons(t *testing.T) {
	for _, r := range Reasons {
		want := r == ReasonUnknownProduct || r == ReasonUnknownItem || r == ReasonUnknownContract ||
			r == ReasonUnknownMarketplace || r == ReasonBadSubject || r == ReasonBadQuantity || r == ReasonBadAmount ||
			r == ReasonBadTier || r == ReasonMissingAttribute || r == ReasonTooOld || r == ReasonInFuture
		if r.Curable() != want {
			t.Errorf("%s: curable %v", r, r.Curable())
		}
	}
}

func TestPacketKeyAndSubjectBytesAreInTheLine(t *testing.T) {
	e := Event{SpecVersion: SpecVersion, ID: `id "quoted" é`, Source: "/src\\x", Type: EventType, Subject: "AS-1",
		Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Data: Usage{Product: "PRD-1", Item: "I", Quantity: MustDecimal("1")}}
	line := EncodePacket([]Event{e})
	if !bytes.Contains(line, PacketKeyBytes(e.Key())) {
		t.Errorf("%s does not contain %s", line, PacketKeyBytes(e.Key()))
	}
	if !bytes.Contains(line, PacketSubjectBytes(e.Subject)) {
		t.Errorf("%s does not contain %s", line, PacketSubjectBytes(e.Subject))
	}
	if bytes.Contains(line, PacketKeyBytes(Key{Source: e.Source, ID: "id"})) {
		t.Error("a prefix of the id matched")
	}
}
