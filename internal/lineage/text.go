package lineage

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/usagepipe/usagepipe/internal/ledger"
)

// WriteText writes the answer for a person: the summary, the copies, where it was counted, where it looked.
func (a *EventAnswer) WriteText(w io.Writer) {
	fmt.Fprintf(w, "event (source %q, id %q)\n  %s\n", a.Query.Source, a.Query.ID, a.Summary)
	if len(a.Copies) > 0 {
		fmt.Fprintln(w, "\ncopies stored (USAGE_EVENTS)")
		tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
		fmt.Fprintln(tw, "  PARTITION\tSEQ\tARRIVED\tMSG ID\tLINE\tFATE")
		for _, c := range a.Copies {
			fmt.Fprintf(tw, "  %d\t%d\t%s\t%s\t%d\t%s\n", c.Partition, c.Seq, stamp(c.Arrival), c.MsgID, c.Line, copyFate(c))
		}
		tw.Flush()
		fmt.Fprintf(w, "\ncontent as stored\n  %s\n", mustJSON(a.Copies[0].Event))
	}
	if c := a.Counting; c != nil {
		writeCounting(w, c)
	}
	writeLetters(w, "kept by ingest (USAGE_DLQ)", a.Kept)
	writeReplays(w, a.Replays)
	writeSearched(w, a.Searched)
	for _, n := range a.Notes {
		fmt.Fprintln(w, "note:", n)
	}
}

func copyFate(c Copy) string {
	fate := c.Fate
	switch c.Fate {
	case FateDuplicate:
		fate = fmt.Sprintf("duplicate of seq %d", c.DuplicateOf)
	case FateDeadLetter:
		fate = fmt.Sprintf("dead letter %s %s (%s seq %d)", c.DeadLetter.ID, c.DeadLetter.Reason, c.DeadLetter.Subject, c.DeadLetter.Seq)
	default:
		if c.Note != "" {
			fate += " (" + c.Note + ")"
		}
	}
	if c.Replay != "" {
		fate += ", the replay of " + c.Replay
	}
	return fate
}

// writeLetters lists dead letters under a title.
func writeLetters(w io.Writer, title string, letters []DeadLetter) {
	if len(letters) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s\n", title)
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "  ID\tSTATE\tREASON\tAT\tMESSAGE")
	for _, l := range letters {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", l.ID, l.State, l.Reason, stamp(l.At), l.Message)
	}
	tw.Flush()
}

// writeReplays lists replays, one a line.
func writeReplays(w io.Writer, logs []ledger.Replay) {
	if len(logs) == 0 {
		return
	}
	fmt.Fprintln(w, "\nreplays")
	for _, r := range logs {
		fmt.Fprintf(w, "  %s\n", replayText(r))
	}
}

func writeCounting(w io.Writer, c *Counting) {
	fmt.Fprintf(w, "\ncounted in\n  product %s contract %s item %s tier %d\n  period %s – %s, closes at %s (%s)\n",
		c.Product, c.Contract, c.Item, c.Tier, stamp(c.PeriodStart), stamp(c.PeriodEnd), stamp(c.ClosesAt), c.State)
	if r := c.Record; r != nil {
		writeRecord(w, r)
	}
	if c.Usage != nil {
		fmt.Fprintf(w, "  value so far %s (%d events), complete as of the owner's last message\n", c.Usage.Quantity, c.Usage.Events)
	}
	if c.File != nil {
		fmt.Fprintf(w, "  file: %s\n", fileText(c.File))
	}
	if c.Note != "" {
		fmt.Fprintf(w, "  %s\n", c.Note)
	}
}

func writeRecord(w io.Writer, r *Record) {
	rec := &r.Record
	fmt.Fprintf(w, "  record %s: %s revision %d, %s %s, reported %s, %d events, digest %s\n", r.RecordID, rec.Kind,
		rec.Revision, rec.Mode, rec.Quantity, r.Reported, rec.Events, rec.Digest)
	fmt.Fprintf(w, "  stored in USAGE_AGG %s seq %d at %s\n", r.Subject, r.Seq, stamp(r.At))
}

func writeSearched(w io.Writer, spans []Span) {
	if len(spans) == 0 {
		return
	}
	fmt.Fprintln(w, "\nsearched")
	for _, sp := range spans {
		complete := ""
		if !sp.Complete {
			complete = " (incomplete)"
		}
		fmt.Fprintf(w, "  %s%s\n", spanText(sp), complete)
	}
}

// WriteText writes a record's answer: the record, its file, its events.
func (a *RecordAnswer) WriteText(w io.Writer) {
	fmt.Fprintf(w, "record %s\n  %s\n\n", a.Query, a.Summary)
	writeRecord(w, &a.Record)
	if a.File != nil {
		fmt.Fprintf(w, "  file: %s\n", fileText(a.File))
	}
	if ev := a.Events; ev != nil {
		fmt.Fprintf(w, "\nevents: %d, digest %s (the record says %d, %s): %s\n", ev.Count, ev.Digest, a.Record.Record.Events,
			a.Record.Record.Digest, matchText(ev))
		tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
		fmt.Fprintln(tw, "  SEQ\tARRIVED\tLINE\tSOURCE\tID\tTIME\tQUANTITY")
		for _, e := range ev.Events {
			fmt.Fprintf(tw, "  %d\t%s\t%d\t%s\t%s\t%s\t%s\n", e.Seq, stamp(e.Arrival), e.Line, e.Source, e.ID, stamp(e.Time), e.Quantity)
		}
		tw.Flush()
		writeSearched(w, ev.Searched)
	}
	writeLetters(w, "dead-lettered by the submitter (USAGE_DLQ)", a.DeadLetters)
	writeReplays(w, a.Replays)
	writeSearched(w, a.Searched)
}

func matchText(ev *RecordEvents) string {
	if ev.Matches {
		return "they match"
	}
	return "NO MATCH: " + ev.Note
}

// WriteText writes a file's answer: the file and its records.
func (a *FileAnswer) WriteText(w io.Writer) {
	fmt.Fprintf(w, "usage file %s\n  %s\n", a.Query, a.Summary)
	if a.Note != "" {
		fmt.Fprintln(w, " ", a.Note)
	}
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "\n  RECORD ID\tSUBSCRIPTION\tITEM\tTIER\tREVISION\tREPORTED\tEVENTS\tDIGEST\tEVENTS FOUND")
	for _, r := range a.Records {
		rec := &r.Record.Record
		found := "-"
		if r.Events != nil {
			found = fmt.Sprintf("%d (%s)", r.Events.Count, strings.SplitN(matchText(r.Events), ":", 2)[0])
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%d\t%s\t%d\t%s\t%s\n", r.Record.RecordID, rec.Subscription, rec.Item, rec.Tier,
			rec.Revision, r.Record.Reported, rec.Events, rec.Digest, found)
	}
	tw.Flush()
	writeHistory(w, a)
}

// writeHistory writes a file's states, the operators' actions on it and its earlier Connect files.
func writeHistory(w io.Writer, a *FileAnswer) {
	fmt.Fprintln(w, "\nhistory")
	for _, t := range a.History {
		by := ""
		if t.By != "" {
			by = " by " + t.By
		}
		fmt.Fprintf(w, "  %s  %s%s  %s\n", stamp(t.At), t.State, by, t.Note)
	}
	if len(a.Actions) > 0 {
		fmt.Fprintln(w, "\noperators' actions")
		for _, x := range a.Actions {
			fmt.Fprintf(w, "  %s  %s by %s on %s: %s", stamp(x.At), x.Action, x.Actor, x.Target, x.Outcome)
			if x.Note != "" {
				fmt.Fprintf(w, " (note: %s)", x.Note)
			}
			fmt.Fprintln(w)
		}
	}
	for _, p := range a.PreviousFiles {
		fmt.Fprintf(w, "earlier file %s (external_id %s) %s until %s\n", p.FileID, p.ExternalID, p.Status, stamp(p.Until))
	}
}
