package lineage

import (
	"fmt"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
)

// summarizeEvent is the one-line answer for a person.
func summarizeEvent(a *EventAnswer) string {
	if !a.Found {
		if len(a.Kept) > 0 {
			return "not stored in USAGE_EVENTS: rejected by ingest, and kept" + replaysSummary(a.Kept, a.Replays)
		}
		return "not found: no copy stored in " + searchedText(a.Searched, "usage.events.") +
			"; no rejection of it kept by ingest in " + searchedText(a.Searched, "usage.dlq.")
	}
	var parts []string
	if a.Counting != nil {
		cp := firstCounted(a.Copies)
		replay := ""
		if cp.Replay != "" {
			replay = ", the replay of " + cp.Replay
		}
		parts = append(parts, fmt.Sprintf("counted (partition %d seq %d, arrived %s%s)", cp.Partition, cp.Seq, stamp(cp.Arrival), replay),
			countingText(a.Counting))
	}
	for _, c := range a.Copies {
		switch {
		case c.Fate == FateDeadLetter && a.Counting == nil:
			parts = append(parts, fmt.Sprintf("dead-lettered (partition %d seq %d, dead letter %s, %s seq %d): %s", c.Partition,
				c.Seq, c.DeadLetter.ID, c.DeadLetter.Subject, c.DeadLetter.Seq, c.DeadLetter.Message))
		case c.Fate == FatePending:
			parts = append(parts, fmt.Sprintf("stored at partition %d seq %d, not folded yet (%s)", c.Partition, c.Seq, c.Note))
		}
	}
	for _, c := range a.Copies {
		if c.Fate == FateDuplicate {
			parts = append(parts, fmt.Sprintf("copy at partition %d seq %d (arrived %s) ignored: a duplicate of seq %d",
				c.Partition, c.Seq, stamp(c.Arrival), c.DuplicateOf))
		}
	}
	return strings.Join(parts, "; ") + replaysSummary(a.Kept, a.Replays)
}

// replaysSummary continues a summary with the dead letters not replayed yet and what each replay did ("" when
// there is neither).
func replaysSummary(letters []DeadLetter, logs []ledger.Replay) string {
	var parts []string
	for _, l := range letters {
		if replayOf(logs, l.ID) == nil {
			parts = append(parts, fmt.Sprintf("dead letter %s (%s) is open: once its cause is fixed, usagepipe dlq replay --id %s --execute",
				l.ID, l.Reason, l.ID))
		}
	}
	for _, r := range logs {
		parts = append(parts, replayText(r))
	}
	if len(parts) == 0 {
		return ""
	}
	return "; " + strings.Join(parts, "; ")
}

// countingText says where a counted event went.
func countingText(c *Counting) string {
	period := fmt.Sprintf("%s %s period %s", c.Product, c.Item, stamp(c.PeriodStart))
	switch c.State {
	case CountOpen:
		return period + ": " + c.Note
	case CountUnchanged, CountNotCommitted:
		return period + ": " + c.Note
	}
	kind := "closed record"
	if c.State == CountAdjusted {
		kind = fmt.Sprintf("adjustment revision %d", c.Record.Record.Revision)
	}
	s := fmt.Sprintf("%s: %s %s", period, kind, c.Record.RecordID)
	if c.File == nil {
		return s + ": " + c.Note
	}
	return s + "; " + fileText(c.File)
}

// fileText describes a file reference.
func fileText(f *FileRef) string {
	s := fmt.Sprintf("ledger %s %s", f.LedgerKey, f.State)
	if f.FileID != "" {
		s += ", file " + f.FileID
		if f.ConnectStatus != "" {
			s += " " + f.ConnectStatus
		}
	}
	if f.ConnectRecord != "" {
		s += ", record " + f.ConnectRecord + " " + f.RecordStatus
	}
	if f.Excluded {
		s += ", record excluded (dead-lettered by the submitter)"
	}
	if f.BaseParked != "" {
		s += ", in Connect while the period's base " + f.BaseParked
	}
	if f.Note != "" {
		s += " (" + f.Note + ")"
	}
	return s
}

// searchedText lists the spans of streams whose filter starts with prefix.
func searchedText(spans []Span, prefix string) string {
	var out []string
	for _, sp := range spans {
		if !strings.HasPrefix(sp.Filter, prefix) {
			continue
		}
		out = append(out, spanText(sp))
	}
	return strings.Join(out, "; ")
}

// spanText says what a span read: "USAGE_EVENTS usage.events.3 seq 10 (t) – 90 (t), 40 messages".
func spanText(sp Span) string {
	if sp.FirstSeq == 0 && sp.FromTime.IsZero() && sp.ToTime.IsZero() { // a read of a whole filter (dead letters)
		return fmt.Sprintf("%s %s, %d %s read [%s]", sp.Stream, sp.Filter, sp.Messages, plural(sp.Messages, "message", "messages"), sp.Note)
	}
	s := fmt.Sprintf("%s %s from %s", sp.Stream, sp.Filter, stampOr(sp.FromTime, "its first message"))
	if sp.Messages == 0 {
		s += fmt.Sprintf(": no message between %s and %s", stampOr(sp.FromTime, "the first kept"), stamp(sp.ToTime))
	} else {
		s += fmt.Sprintf(" seq %d (%s) – %d (%s), %d messages", sp.FirstSeq, stamp(sp.FirstAt), sp.LastSeq, stamp(sp.LastAt), sp.Messages)
	}
	if sp.Note != "" {
		s += " [" + sp.Note + "]"
	}
	return s
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func stampOr(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return stamp(t)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
