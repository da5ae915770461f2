package usage

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes the answer as tables for a person.
func (a *Answer) WriteText(w io.Writer) {
	fmt.Fprintf(w, "usage of %s (partition %d, owner %s): complete up to %s%s\n", a.Subscription, a.Partition, a.Owner,
		a.CompleteUpTo.UTC().Format(time.RFC3339Nano), map[bool]string{false: " (the owner is replaying its backlog)", true: ""}[a.CaughtUp])
	fmt.Fprintln(w, "\nOPEN PERIODS")
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "  PRODUCT\tCONTRACT\tITEM\tTIER\tPERIOD\tCLOSES AT\tVALUE SO FAR\tEVENTS")
	for _, l := range a.Open {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\t%s\t%s\t%d\n", l.Product, l.Contract, l.Item, l.Tier, stamp(l.PeriodStart),
			stamp(l.ClosesAt), l.Value, l.Events)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nCLOSED PERIODS")
	tw = tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "  PRODUCT\tCONTRACT\tITEM\tTIER\tPERIOD\tVALUE\tEVENTS\tADJUSTMENTS\tREPORTED\tFILES")
	for _, l := range a.Closed {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\t%s\t%d\t%d\t%s\t%s\n", l.Product, l.Contract, l.Item, l.Tier, stamp(l.PeriodStart),
			l.Value, l.Events, l.Revisions, reportedText(l.Reported), filesText(l.Files))
	}
	tw.Flush()
}

func reportedText(r *Reported) string {
	if r == nil {
		return "-"
	}
	if r.Pending.IsZero() {
		return r.Value.String()
	}
	return fmt.Sprintf("%s (+%s pending)", r.Value, r.Pending)
}

func filesText(fs []File) string {
	if len(fs) == 0 {
		return "none yet"
	}
	var out []string
	for _, f := range fs {
		s := fmt.Sprintf("r%d.p%d %s", f.Revision, f.Part, f.State)
		if f.FileID != "" {
			s += " " + f.FileID
			if f.ConnectStatus != "" {
				s += " " + f.ConnectStatus
			}
		}
		out = append(out, s)
	}
	return strings.Join(out, "; ")
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
