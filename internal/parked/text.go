package parked

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Views are parked entries as listed.
type Views []View

// WriteText prints one line per entry.
func (vs Views) WriteText(w io.Writer) {
	fmt.Fprintf(w, "%d parked\n", len(vs))
	if len(vs) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tSTATE\tREASON\tSINCE\tFILE\tCAN")
	for _, v := range vs {
		file := v.FileID
		if file == "" {
			file = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", v.Key, v.State, v.Reason, v.Since.UTC().Format(time.RFC3339), file,
			strings.Join(v.Can, ","))
	}
	tw.Flush()
}

// WriteText prints the entry, what can be done, its history and the period's action log.
func (v *View) WriteText(w io.Writer) {
	e := v.Entry
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range [][2]string{
		{"key", v.Key}, {"state", string(v.State)}, {"reason", v.Reason}, {"detail", strings.TrimSpace(e.Reason + " " + e.Note)},
		{"since", v.Since.UTC().Format(time.RFC3339)}, {"connect file", v.FileID}, {"external id", e.ExternalID},
		{"records", fmt.Sprintf("%d (%d excluded)", e.Records, len(e.Excluded))}, {"parked key", v.ParkedKey},
		{"can", strings.Join(v.Can, ", ")}, {"hint", v.Hint},
	} {
		if row[1] != "" {
			fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "\nhistory:")
	for _, t := range e.History {
		by := ""
		if t.By != "" {
			by = " by " + t.By
		}
		fmt.Fprintf(w, "  %s %s%s %s\n", t.At.UTC().Format(time.RFC3339), t.State, by, t.Note)
	}
	if len(v.History) > 0 {
		fmt.Fprintln(w, "\noperators' actions on the period:")
		for _, a := range v.History {
			fmt.Fprintf(w, "  %s %s %s by %s: %s %s\n", a.At.UTC().Format(time.RFC3339), a.Action, a.Target, a.Actor, a.Outcome, a.Note)
		}
	}
}

// WriteText prints what the action did.
func (r *Result) WriteText(w io.Writer) {
	fmt.Fprintf(w, "%s %s: %s\n", r.Action, r.Key, r.Outcome)
	for _, k := range r.Entries {
		fmt.Fprintf(w, "  %s\n", k)
	}
}
