package status

import (
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/svcstatus"
)

// judge derives the problems and warnings (doc.go).
func (r *Report) judge(o Options) {
	r.Problems, r.Warnings = []Problem{}, []Problem{}
	add := func(code, format string, args ...any) {
		r.Problems = append(r.Problems, Problem{Code: code, Message: fmt.Sprintf(format, args...)})
	}
	for _, p := range r.Owners {
		if !p.Live {
			add(ProblemNoOwner, "partition %d has no owner (no live aggregator holds its lease)", p.Partition)
		}
		if lag := time.Duration(p.LagSeconds * float64(time.Second)); lag > o.MaxLag {
			add(ProblemStuck, "partition %d: committed output is %v behind its newest message (%d messages)",
				p.Partition, lag.Round(time.Second), p.Backlog)
		}
	}
	for _, p := range r.Parked {
		add(ProblemParked, "%s is %s: %s", p.Key, p.State, p.Reason)
	}
	for _, b := range r.BaseParked {
		add(ProblemBaseParked, "%s is in Connect (%s %s) while the period's closed-records file %s is %s: its deltas may be billed "+
			"without their base; resubmit the base (usagepipe parked resubmit %s) or abandon it", b.Key, b.FileID, b.State, b.Base,
			b.BaseState, b.Base)
	}
	now := o.Now()
	for _, p := range r.Periods {
		if p.Overdue(now, o.OverdueAfter) {
			add(ProblemOverdue, "%s %s period %s closed at %s and is not reported (%s, %d of %d partitions marked, files %v)",
				p.Product, p.Contract, p.PeriodStart.UTC().Format(time.RFC3339), p.ClosesAt.UTC().Format(time.RFC3339),
				p.State, p.Marked, r.Partitions, p.Files)
		}
	}
	r.judgeDeadLetters(o)
	r.judgeServices()
}

// judgeDeadLetters makes the open dead letters of the window problems, older open ones warnings; replayed
// ones are neither.
func (r *Report) judgeDeadLetters(o Options) {
	for _, d := range r.DeadLetters {
		if d.OpenRecent > 0 {
			r.Problems = append(r.Problems, Problem{Code: ProblemDeadLetters, Message: fmt.Sprintf("%d open dead letters %s/%s within %v (%s): "+
				"once the cause is fixed, usagepipe dlq replay --stage %s --reason %s", d.OpenRecent, d.Stage, d.Reason, o.DeadLetterWindow,
				d.Stream, d.Stage, d.Reason)})
		}
		if old := d.Open - d.OpenRecent; old > 0 {
			r.Warnings = append(r.Warnings, Problem{Code: WarnOldDeadLetters, Message: fmt.Sprintf("%d open dead letters %s/%s older than %v (%s)",
				old, d.Stage, d.Reason, o.DeadLetterWindow, d.Stream)})
		}
	}
}

// judgeServices requires a live aggregator and submitter; a missing ingest and consumer backlogs are warnings.
func (r *Report) judgeServices() {
	kinds := map[string]int{}
	for _, s := range r.Services {
		kinds[s.Kind]++
	}
	for _, k := range []string{svcstatus.KindAggregator, svcstatus.KindSubmitter} {
		if kinds[k] == 0 {
			r.Problems = append(r.Problems, Problem{Code: ProblemServiceDown, Message: "no " + k + " is running (no live heartbeat)"})
		}
	}
	if kinds[svcstatus.KindIngest] == 0 {
		r.Warnings = append(r.Warnings, Problem{Code: WarnNoIngest, Message: "no ingest is running (no live heartbeat)"})
	}
	for _, c := range r.Consumers {
		if c.Pending > 0 || c.AckPending > 0 {
			r.Warnings = append(r.Warnings, Problem{Code: WarnConsumer,
				Message: fmt.Sprintf("consumer %s/%s: %d pending, %d being handled", c.Stream, c.Name, c.Pending, c.AckPending)})
		}
	}
}

// Unmarked reports whether the period is past its close (end + allowed lateness) and some partition has not
// marked it yet: normal for the seconds an aggregator takes to see the close, a problem when it lasts.
func (p *Period) Unmarked(now time.Time) bool {
	return p.State != PeriodClosed && now.After(p.ClosesAt)
}

// OK reports whether the report has no problem (status --check).
func (r *Report) OK() bool { return len(r.Problems) == 0 }
