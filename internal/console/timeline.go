package console

import (
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/lineage"
)

// States of a timeline step.
const (
	stepDone    = "done"
	stepWaiting = "waiting" // not yet: the next thing to happen
	stepFailed  = "failed"  // it stopped here (dead letter, parked file, not found)
	stepNone    = "none"    // not reached
)

// step is one stage of an event's way to a bill.
type step struct {
	Name  string
	State string
	At    time.Time
	Text  string
	Href  string
	Link  string
}

// timeline is an event's way: ingested → stored → counted → closed → file → accepted, as far as it went.
func timeline(a *lineage.EventAnswer) []step {
	steps := []step{{Name: "Ingested"}, {Name: "Stored"}, {Name: "Counted"}, {Name: "Closed"}, {Name: "In a file"}, {Name: "Accepted"}}
	if !a.Found || len(a.Copies) == 0 {
		steps[0].State, steps[0].Text = stepFailed, a.Summary
		if len(a.Kept) > 0 { // rejected by ingest, kept as a dead letter (and not replayed, or not yet stored again)
			k := a.Kept[len(a.Kept)-1]
			steps[0].At, steps[0].Text = k.At, fmt.Sprintf("rejected by ingest (%s): %s; kept as dead letter %s (%s)", k.Reason, k.Message, k.ID, k.State)
			steps[0].Href, steps[0].Link = letterHref(k.ID), "the dead letter"
		}
		return fill(steps, 1)
	}
	cp := mainCopy(a.Copies)
	e := cp.Event
	steps[0] = step{Name: "Ingested", State: stepDone, At: e.Time, Text: fmt.Sprintf("%s of %s for %s (event time; source %s)",
		e.Data.Quantity, e.Data.Item, e.Subject, e.Source)}
	steps[1] = step{Name: "Stored", State: stepDone, At: cp.Arrival, Text: fmt.Sprintf("USAGE_EVENTS partition %d, seq %d, line %d of packet %s%s",
		cp.Partition, cp.Seq, cp.Line, cp.MsgID, copiesText(a.Copies))}
	if cp.Replay != "" {
		steps[1].Text += "; stored by the replay of dead letter " + cp.Replay
		steps[1].Href, steps[1].Link = letterHref(cp.Replay), "the dead letter"
	}
	steps[2] = countedStep(cp)
	if steps[2].State != stepDone || a.Counting == nil {
		return fill(steps, 3)
	}
	steps[3] = closedStep(a.Counting)
	if steps[3].State != stepDone || a.Counting.File == nil {
		if steps[3].State == stepDone {
			steps[4] = step{Name: "In a file", State: stepWaiting, Text: a.Counting.Note}
			return fill(steps, 5)
		}
		return fill(steps, 4)
	}
	steps[4], steps[5] = fileSteps(a.Counting.File)
	return steps
}

// letterHref is the page of dead letter id (the dead letters page when the id is not known).
func letterHref(id string) string {
	if id == "" {
		return "/deadletters"
	}
	return link("/deadletters/letter", "id", id)
}

// fill marks the steps from i on as not reached.
func fill(steps []step, i int) []step {
	for ; i < len(steps); i++ {
		steps[i].State = stepNone
	}
	return steps
}

// mainCopy is the counted copy, else the first one.
func mainCopy(copies []lineage.Copy) lineage.Copy {
	for _, c := range copies {
		if c.Fate == lineage.FateCounted {
			return c
		}
	}
	return copies[0]
}

func copiesText(copies []lineage.Copy) string {
	if len(copies) == 1 {
		return ""
	}
	return fmt.Sprintf("; %d copies stored (the others are duplicates or dead letters, listed below)", len(copies))
}

// countedStep says what the fold did with the copy.
func countedStep(cp lineage.Copy) step {
	s := step{Name: "Counted", Text: cp.Note}
	switch cp.Fate {
	case lineage.FateCounted:
		s.State, s.Text = stepDone, "folded into its period by the aggregator"
	case lineage.FatePending:
		s.State, s.Text = stepWaiting, "stored; the aggregator has not committed past it yet"
	case lineage.FateDeadLetter:
		s.State = stepFailed
		if dl := cp.DeadLetter; dl != nil {
			s.At, s.Text = dl.At, fmt.Sprintf("dead-lettered by the aggregator (%s): %s", dl.Reason, dl.Message)
			s.Href, s.Link = letterHref(dl.ID), "the dead letter"
		}
	case lineage.FateDuplicate:
		s.State, s.Text = stepNone, fmt.Sprintf("a duplicate of seq %d", cp.DuplicateOf)
	}
	return s
}

// closedStep says whether the period closed with the event in a record or adjustment.
func closedStep(c *lineage.Counting) step {
	s := step{Name: "Closed", Text: c.Note}
	switch c.State {
	case lineage.CountClosed, lineage.CountAdjusted:
		s.State, s.At = stepDone, c.Record.At
		kind := "closed record"
		if c.State == lineage.CountAdjusted {
			kind = fmt.Sprintf("late: adjustment revision %d", c.Record.Record.Revision)
		}
		s.Text = fmt.Sprintf("%s of %s %s, quantity %s (%d events)", kind, c.Item, c.PeriodStart.UTC().Format("2006-01-02 15:04"),
			c.Record.Record.Quantity, c.Record.Record.Events)
		s.Href, s.Link = link("/explain", "q", c.Record.RecordID, "subject", c.Record.Subject), "record "+short(c.Record.RecordID)
	case lineage.CountOpen:
		s.State, s.At = stepWaiting, c.ClosesAt
		s.Text = "the period is open; it closes at " + utc(c.ClosesAt)
		if c.Usage != nil {
			s.Text += fmt.Sprintf("; %s so far over %d events", c.Usage.Quantity, c.Usage.Events)
		}
	case lineage.CountUnchanged:
		s.State = stepDone
	default:
		s.State = stepWaiting
	}
	return s
}

// fileSteps say which file holds the record and whether Connect accepted it.
func fileSteps(f *lineage.FileRef) (step, step) {
	file := step{Name: "In a file", State: stepWaiting, Href: link("/file", "key", f.LedgerKey), Link: "file " + orDefault(f.LedgerKey, f.FileID)}
	file.Text = fmt.Sprintf("ledger %s, revision %d part %d of %d", f.State, f.Revision, f.Part, f.Parts)
	if f.FileID != "" {
		file.State, file.Text = stepDone, file.Text+", Connect file "+f.FileID
	}
	acc := step{Name: "Accepted", State: stepWaiting, Text: "Connect status " + orDefault("unknown", orDefault(f.LedgerStatus, f.ConnectStatus))}
	switch st := ledger.State(f.State); {
	case f.Excluded:
		acc.State, acc.Text = stepFailed, "this record was dead-lettered by the submitter, not uploaded"
	case st == ledger.StateAccepted || st == ledger.StateClosed:
		acc.State = stepDone
	case st.Parked():
		acc.State = stepFailed
		acc.Href, acc.Link = link("/parked/entry", "key", f.LedgerKey), "resolve the parked file"
	}
	if f.ConnectRecord != "" {
		acc.Text += fmt.Sprintf("; Connect record %s (%s)", f.ConnectRecord, f.RecordStatus)
	}
	if f.Note != "" {
		acc.Text += "; " + f.Note
	}
	return file, acc
}
