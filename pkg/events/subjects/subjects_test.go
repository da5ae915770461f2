package subjects

import (
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// TestLayoutGolden spells out every subject and filter of the three streams: a change of the layout is a
// change of the wire contract between ingest, aggregator, submitter and any reader of the streams, and must
// show up here.
func TestLayoutGolden(t *testing.T) {
	start := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	madrid := time.FixedZone("CET", 3600)
	odd := "PRD with spaces/and.dots"
	for _, tc := range []struct{ got, want string }{
		{AllEvents, "usage.events.>"},
		{AllAgg, "usage.agg.>"},
		{AllDLQ, "usage.dlq.>"},
		{EventsRoot, "usage.events"},
		{AggRoot, "usage.agg"},
		{DLQRoot, "usage.dlq"},
		{EventsTemplate, "usage.events.{partition}"},
		{Events(0), "usage.events.0"},
		{Events(15), "usage.events.15"},
		{Progress(3), "usage.agg.progress.3"},
		{AllProgress, "usage.agg.progress.>"},
		{AggDeadLetters(7), "usage.agg.dlq.7"},
		{AllAggDeadLetters, "usage.agg.dlq.>"},
		{Records.Subject("PRD-100-200-300", "CRD-10001", start, 4), "usage.agg.rec.PRD-100-200-300.CRD-10001.20261125T000000Z.4"},
		{Adjustments.Subject("PRD-100-200-300", "CRD-10001", start, 4), "usage.agg.adj.PRD-100-200-300.CRD-10001.20261125T000000Z.4"},
		{Marks.Subject("PRD-100-200-300", "CRD-10001", start, 4), "usage.agg.mark.PRD-100-200-300.CRD-10001.20261125T000000Z.4"},
		{Records.Period("PRD-100-200-300", "CRD-10001", start), "usage.agg.rec.PRD-100-200-300.CRD-10001.20261125T000000Z.*"},
		{Adjustments.Period("PRD-100-200-300", "CRD-10001", start), "usage.agg.adj.PRD-100-200-300.CRD-10001.20261125T000000Z.*"},
		{Marks.Period("PRD-100-200-300", "CRD-10001", start), "usage.agg.mark.PRD-100-200-300.CRD-10001.20261125T000000Z.*"},
		{Records.All(), "usage.agg.rec.>"},
		{Adjustments.All(), "usage.agg.adj.>"},
		{Marks.All(), "usage.agg.mark.>"},
		{Records.InPartition(4), "usage.agg.rec.*.*.*.4"},
		{Adjustments.InPartition(0), "usage.agg.adj.*.*.*.0"},
		{UsageQuery(7), "usagepipe.query.usage.7"},
		// The period key is the start in UTC; ids that are not subject tokens are encoded.
		{Records.Subject("PRD-1", "CRD-1", start.In(madrid), 0), "usage.agg.rec.PRD-1.CRD-1.20261125T000000Z.0"},
		{Marks.Subject(odd, "CRD-1", start, 1), "usage.agg.mark." + events.SubjectToken(odd) + ".CRD-1.20261125T000000Z.1"},
		{DeadLetters("submitter", "connect_invalid"), "usage.dlq.submitter.connect_invalid"},
		{DeadLetters("submitter", "unwritable"), "usage.dlq.submitter.unwritable"},
		{StageDeadLetters("submitter"), "usage.dlq.submitter.>"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestParsePartitionSubjects(t *testing.T) {
	for _, tc := range []struct {
		parse   func(string) (int, error)
		subject string
		want    int
	}{
		{ParseEvents, "usage.events.0", 0},
		{ParseEvents, "usage.events.1023", 1023},
		{ParseProgress, "usage.agg.progress.12", 12},
		{ParseAggDeadLetters, "usage.agg.dlq.5", 5},
		{ParseUsageQuery, "usagepipe.query.usage.9", 9},
	} {
		if got, err := tc.parse(tc.subject); err != nil || got != tc.want {
			t.Errorf("%s: got %d, %v; want %d", tc.subject, got, err, tc.want)
		}
	}
	for _, bad := range []string{"usage.events.", "usage.events.x", "usage.events.-1", "usage.events.01",
		"usage.events.1.2", "usage.agg.progress.1", "usage.events"} {
		if p, err := ParseEvents(bad); err == nil {
			t.Errorf("ParseEvents(%q) = %d, want an error", bad, p)
		}
	}
	if _, err := ParseProgress("usage.events.1"); err == nil {
		t.Error("ParseProgress took an events subject")
	}
}

func TestParsePeriodRoundTrip(t *testing.T) {
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for _, o := range []Output{Records, Adjustments, Marks} {
		for _, product := range []string{"PRD-100-200-300", "PRD with spaces/and.dots"} {
			s := o.Subject(product, "CRD-10001", start, 9)
			ps, err := ParsePeriod(s)
			if err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			want := PeriodSubject{Output: o, Product: events.SubjectToken(product), Contract: "CRD-10001", PeriodStart: start, Partition: 9}
			if ps != want {
				t.Errorf("%s: parsed %+v, want %+v", s, ps, want)
			}
			if ps.String() != s {
				t.Errorf("%s: rebuilt as %s", s, ps.String())
			}
		}
	}
	mark, _ := ParsePeriod(Marks.Subject("PRD-1", "CRD-1", start, 2))
	mark.Output = Records
	if got := mark.String(); got != Records.Subject("PRD-1", "CRD-1", start, 2) {
		t.Errorf("the records subject of a mark: %s", got)
	}
}

func TestParsePeriodRefusesOtherSubjects(t *testing.T) {
	for _, bad := range []string{
		"usage.agg.progress.1", "usage.agg.dlq.1", "usage.events.1", "usage.agg.rec.PRD-1.CRD-1.20261125T000000Z",
		"usage.agg.rec.PRD-1.CRD-1.20261125T000000Z.1.2", "usage.agg.rec.PRD-1.CRD-1.2026-11-25.1",
		"usage.agg.rec.PRD-1.CRD-1.20261125T000000Z.*", "usage.agg.rec..CRD-1.20261125T000000Z.1", "usage.agg.record.PRD-1.CRD-1.20261125T000000Z.1",
	} {
		if ps, err := ParsePeriod(bad); err == nil {
			t.Errorf("ParsePeriod(%q) = %+v, want an error", bad, ps)
		} else if !strings.Contains(err.Error(), bad) {
			t.Errorf("ParsePeriod(%q): error %q does not name the subject", bad, err)
		}
	}
}

func TestParseDeadLetters(t *testing.T) {
	stage, reason, err := ParseDeadLetters(DeadLetters("submitter", "connect_invalid"))
	if err != nil || stage != "submitter" || reason != "connect_invalid" {
		t.Errorf("got %q %q %v", stage, reason, err)
	}
	for _, bad := range []string{"usage.dlq.submitter", "usage.dlq..x", "usage.dlq.submitter.", "usage.dlq.a.b.c", "usage.agg.dlq.1"} {
		if s, r, err := ParseDeadLetters(bad); err == nil {
			t.Errorf("ParseDeadLetters(%q) = %q %q, want an error", bad, s, r)
		}
	}
}
