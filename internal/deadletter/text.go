package deadletter

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText prints the counts by stage × reason, then one line per letter.
func (l *Listing) WriteText(w io.Writer) {
	fmt.Fprintf(w, "%d dead letters, %d open\n\n", len(l.Letters), l.Open())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STAGE\tREASON\tTOTAL\tOPEN")
	for _, c := range l.Counts {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", c.Stage, c.Reason, c.Total, c.Open)
	}
	tw.Flush()
	if len(l.Letters) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tSTAGE\tREASON\tAT\tPRODUCT\tSUBJECT\tPERIOD\tWHAT")
	for i := range l.Letters {
		x := &l.Letters[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.ID, x.State, x.Stage, x.Reason, when(x.At), dash(x.Product),
			dash(x.Subscription), period(x.PeriodStart), x.what())
	}
	tw.Flush()
}

// what names a letter's content in a few words.
func (l *Letter) what() string {
	switch {
	case l.Event != nil:
		return fmt.Sprintf("event (%s, %s) %s %s", l.Event.Source, l.Event.ID, l.Event.Data.Item, l.Event.Data.Quantity)
	case l.Record != nil:
		return fmt.Sprintf("record %s %s %s", l.Record.RecordID(), l.Record.Item, l.Record.Quantity)
	}
	return fmt.Sprintf("message of %d bytes", len(l.Payload))
}

// WriteText prints the letter whole, and its replay log.
func (l *Letter) WriteText(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range [][2]string{
		{"id", l.ID}, {"state", string(l.State)}, {"stage", l.Stage}, {"reason", string(l.Reason)}, {"message", l.Message},
		{"dead-lettered", when(l.At)}, {"stored", fmt.Sprintf("%s %s seq %d line %d", l.Stream, l.StoredOn, l.StoredSeq, l.Line)},
		{"from", fmt.Sprintf("%s seq %d", dash(l.From), l.FromSeq)}, {"holds", l.what()}, {"product", dash(l.Product)},
		{"contract", dash(l.Contract)}, {"subject", dash(l.Subscription)}, {"period", period(l.PeriodStart)},
		{"file", strings.TrimSpace(l.FileKey + " " + l.ConnectFile)},
	} {
		if row[1] != "" {
			fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "\npayload:\n%s\n", l.Payload)
	if r := l.Replay; r != nil {
		fmt.Fprintf(w, "\nreplay: %s by %s, started %s", r.State, r.Actor, when(r.Started))
		if !r.Finished.IsZero() {
			fmt.Fprintf(w, ", finished %s", when(r.Finished))
		}
		fmt.Fprintf(w, "\n  %s\n", r.Outcome)
		for _, a := range r.Earlier {
			fmt.Fprintf(w, "  earlier: %s by %s: %s\n", when(a.Started), a.Actor, a.Outcome)
		}
	}
}

// WriteText prints each item's decision and the totals.
func (r *Report) WriteText(w io.Writer) {
	mode := "dry run (nothing done; --execute to replay)"
	if r.Execute {
		mode = "replayed by " + r.Actor.String()
	}
	fmt.Fprintf(w, "%s: %d dead letters selected by %s\n\n", mode, len(r.Items), r.Filter)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTAGE\tREASON\tDECISION\tDONE\tDETAIL")
	for _, it := range r.Items {
		done := "-"
		if it.Executed {
			done = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", it.ID, it.Stage, it.Reason, it.Decision, done, it.Detail)
	}
	tw.Flush()
	counts := r.Counts()
	var parts []string
	for _, d := range []Decision{DecisionCount, DecisionAdjust, DecisionResubmit, DecisionDuplicate, DecisionRefused, DecisionReplayed} {
		if counts[d] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", d, counts[d]))
		}
	}
	fmt.Fprintf(w, "\n%s\n", strings.Join(parts, ", "))
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func period(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("20060102T150405Z")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
