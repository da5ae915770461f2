package status

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes the report as tables for a person: problems first.
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "usagepipe status at %s (%d partitions)\n", r.At.Format(time.RFC3339), r.Partitions)
	if len(r.Problems) == 0 {
		fmt.Fprintln(w, "\nPROBLEMS: none")
	} else {
		table(w, fmt.Sprintf("PROBLEMS (%d)", len(r.Problems)), []string{"CODE", "WHAT"}, problemRows(r.Problems))
	}
	if len(r.Warnings) > 0 {
		table(w, "WARNINGS", []string{"CODE", "WHAT"}, problemRows(r.Warnings))
	}
	var rows [][]string
	for _, p := range r.Periods {
		rows = append(rows, []string{p.Product, p.Contract, p.PeriodStart.UTC().Format(time.RFC3339), p.State,
			fmt.Sprintf("%d/%d", p.Marked, r.Partitions), fmt.Sprint(p.Records), counts(p.Files), counts(p.Connect),
			fmt.Sprint(p.Supplements), reported(p)})
	}
	table(w, "PERIODS", []string{"PRODUCT", "CONTRACT", "PERIOD", "STATE", "MARKED", "RECORDS", "FILES", "CONNECT", "SUPPL", "REPORTED"}, rows)
	r.writeOperations(w)
}

// writeOperations writes the parked files, dead letters, partitions, workers, consumers, ingest and services.
func (r *Report) writeOperations(w io.Writer) {
	var rows [][]string
	for _, p := range r.Parked {
		rows = append(rows, []string{p.Key, p.State, p.Reason, p.FileID})
	}
	table(w, "PARKED", []string{"KEY", "STATE", "REASON", "FILE"}, rows)
	if len(r.BaseParked) > 0 {
		rows = nil
		for _, b := range r.BaseParked {
			rows = append(rows, []string{b.Key, b.State, b.FileID, b.Base + " " + b.BaseState})
		}
		table(w, "SUPPLEMENTS IN CONNECT WITH THEIR BASE PARKED", []string{"KEY", "STATE", "FILE", "BASE"}, rows)
	}
	rows = nil
	for _, d := range r.DeadLetters {
		rows = append(rows, []string{d.Stage, d.Reason, d.Stream, fmt.Sprint(d.Total), fmt.Sprint(d.Open), fmt.Sprint(d.OpenRecent)})
	}
	table(w, "DEAD LETTERS", []string{"STAGE", "REASON", "STREAM", "STORED", "OPEN", "OPEN IN WINDOW"}, rows)
	rows = nil
	for _, p := range r.Owners {
		owner := p.Member
		if !p.Live {
			owner = "NONE"
		}
		rows = append(rows, []string{fmt.Sprint(p.Partition), owner, fmt.Sprint(p.Committed), fmt.Sprint(p.End),
			fmt.Sprint(p.Backlog), fmt.Sprintf("%.1fs", p.LagSeconds)})
	}
	table(w, "PARTITIONS", []string{"P", "OWNER", "COMMITTED", "END", "BACKLOG", "LAG"}, rows)
	rows = nil
	for _, a := range r.Aggregators {
		rows = append(rows, []string{a.Member, fmt.Sprint(len(a.Partitions)), fmt.Sprintf("%.1fs", a.MaxLag)})
	}
	table(w, "AGGREGATORS", []string{"MEMBER", "PARTITIONS", "MAX LAG"}, rows)
	r.writeServices(w)
}

func (r *Report) writeServices(w io.Writer) {
	var rows [][]string
	for _, c := range r.Consumers {
		rows = append(rows, []string{c.Stream, c.Name, fmt.Sprint(c.Pending), fmt.Sprint(c.AckPending)})
	}
	table(w, "CONSUMERS", []string{"STREAM", "NAME", "PENDING", "ACK PENDING"}, rows)
	rows = nil
	for _, hb := range r.Ingest {
		in := hb.Ingest
		rows = append(rows, []string{hb.Member, fmt.Sprintf("%.1f", in.AcceptedPS), fmt.Sprintf("%.1f", in.DuplicatePS),
			fmt.Sprintf("%.1f", in.RejectedPS), fmt.Sprintf("%d/%d/%d", in.Accepted, in.Duplicates, in.Rejected)})
	}
	table(w, "INGEST (per second over the last minute)", []string{"MEMBER", "ACCEPTED", "DUPLICATE", "REJECTED", "TOTALS A/D/R"}, rows)
	rows = nil
	for _, s := range r.Services {
		rows = append(rows, []string{s.Kind, s.Member, s.Version, s.Started.Format(time.RFC3339), s.Seen.Format(time.RFC3339), s.OpsAddr})
	}
	table(w, "SERVICES", []string{"KIND", "MEMBER", "VERSION", "STARTED", "SEEN", "OPS"}, rows)
}

func problemRows(ps []Problem) [][]string {
	rows := make([][]string, len(ps))
	for i, p := range ps {
		rows[i] = []string{p.Code, p.Message}
	}
	return rows
}

// table writes a titled table; an empty one says "none".
func table(w io.Writer, title string, header []string, rows [][]string) {
	fmt.Fprintf(w, "\n%s\n", title)
	if len(rows) == 0 {
		fmt.Fprintln(w, "  none")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "  "+strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, "  "+strings.Join(r, "\t"))
	}
	tw.Flush()
}

// counts writes a map of counts as "accepted 2, pending 1", sorted.
func counts(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// reported says whether a period is reported: yes, no, or abandoned (on purpose).
func reported(p Period) string {
	if p.Abandoned {
		return "abandoned"
	}
	return yesNo(p.Reported)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
