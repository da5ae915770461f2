package aggregator

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// outputs is everything the aggregators committed, except progress records.
type outputs struct {
	records     []events.PeriodRecord // closed and adjustments, in stream order
	marks       []events.PartitionMark
	deadLetters []events.DeadLetter
	raw         map[int]string   // per partition: every subject's lines as stored, subjects sorted
	markOrder   map[int][]string // per partition: the mark lines in stream order
	orderErrs   []string         // marks that do not follow exactly the closed records they count

	closedSoFar map[string]int  // per record subject: closed records read so far
	marked      map[string]bool // record subjects whose mark was read
}

// readOutputs reads USAGE_AGG in stream order, keeping every line as stored, per partition and subject, and
// checking that each mark follows the closed records it counts and no closed record follows its mark.
func readOutputs(t *testing.T, conn *bus.Conn) outputs {
	t.Helper()
	bySubject := map[string][]string{}
	out := outputs{markOrder: map[int][]string{}, closedSoFar: map[string]int{}, marked: map[string]bool{}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o := bus.ReadOptions{Filters: []string{subjects.Records.All(), subjects.Adjustments.All(), subjects.Marks.All(), subjects.AllAggDeadLetters}}
	err := conn.Read(ctx, bus.StreamAgg, o, func(m bus.Msg) error {
		for _, line := range strings.Split(strings.TrimSuffix(string(m.Data), "\n"), "\n") {
			if err := out.add(m.Subject, []byte(line)); err != nil {
				return fmt.Errorf("%s seq %d: %w", m.Subject, m.Seq, err)
			}
			bySubject[m.Subject] = append(bySubject[m.Subject], line)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out.raw = rawByPartition(bySubject)
	return out
}

// add decodes one line by its subject's kind.
func (o *outputs) add(subject string, line []byte) error {
	switch {
	case outputOf(subject) == subjects.Records, outputOf(subject) == subjects.Adjustments:
		var r events.PeriodRecord
		if err := json.Unmarshal(line, &r); err != nil {
			return err
		}
		o.records = append(o.records, r)
		o.noteRecord(subject)
	case outputOf(subject) == subjects.Marks:
		var m events.PartitionMark
		if err := json.Unmarshal(line, &m); err != nil {
			return err
		}
		o.marks = append(o.marks, m)
		o.noteMark(subject, m, string(line))
	default:
		var d events.DeadLetter
		if err := json.Unmarshal(line, &d); err != nil {
			return err
		}
		o.deadLetters = append(o.deadLetters, d)
	}
	return nil
}

// outputOf is the per-period output a subject carries ("" for another subject).
func outputOf(subject string) subjects.Output {
	ps, err := subjects.ParsePeriod(subject)
	if err != nil {
		return ""
	}
	return ps.Output
}

// noteRecord counts a closed record of its period and partition; none may come after the period's mark.
func (o *outputs) noteRecord(subject string) {
	if outputOf(subject) != subjects.Records {
		return
	}
	o.closedSoFar[subject]++
	if o.marked[subject] {
		o.orderErrs = append(o.orderErrs, subject+": closed record after the period's mark")
	}
}

// noteMark checks that the mark counts exactly the closed records stored before it.
func (o *outputs) noteMark(subject string, m events.PartitionMark, line string) {
	ps, _ := subjects.ParsePeriod(subject)
	ps.Output = subjects.Records
	rec := ps.String()
	if got := o.closedSoFar[rec]; got != m.Records {
		o.orderErrs = append(o.orderErrs, fmt.Sprintf("%s: mark counts %d records, %d stored before it", subject, m.Records, got))
	}
	o.marked[rec] = true
	o.markOrder[m.Partition] = append(o.markOrder[m.Partition], line)
}

// rawByPartition joins every subject's lines, subjects sorted, per partition.
func rawByPartition(bySubject map[string][]string) map[int]string {
	subjects := make([]string, 0, len(bySubject))
	for s := range bySubject {
		subjects = append(subjects, s)
	}
	sort.Strings(subjects)
	parts := map[int]*strings.Builder{}
	for _, s := range subjects {
		p, _ := strconv.Atoi(s[strings.LastIndexByte(s, '.')+1:])
		if parts[p] == nil {
			parts[p] = &strings.Builder{}
		}
		for _, line := range bySubject[s] {
			fmt.Fprintf(parts[p], "%s %s\n", s, line)
		}
	}
	res := map[int]string{}
	for p, b := range parts {
		res[p] = b.String()
	}
	return res
}

// checkNoDuplicates fails if any record revision or mark was committed twice, or a mark does not follow
// exactly the closed records it counts.
func checkNoDuplicates(t *testing.T, out outputs) {
	t.Helper()
	for _, e := range out.orderErrs {
		t.Errorf("stream order: %s", e)
	}
	seen := map[string]bool{}
	for _, r := range out.records {
		k := fmt.Sprintf("rec %s %s %s %s %d %d %d", r.Product, r.Contract, r.Subscription, r.Item, r.Tier, r.PeriodStart.UnixNano(), r.Revision)
		if seen[k] {
			t.Errorf("record committed twice: %s", k)
		}
		seen[k] = true
	}
	for _, m := range out.marks {
		k := fmt.Sprintf("mark %s %s %d %d", m.Product, m.Contract, m.PeriodStart.UnixNano(), m.Partition)
		if seen[k] {
			t.Errorf("mark committed twice: %s", k)
		}
		seen[k] = true
	}
	for _, d := range out.deadLetters {
		k := fmt.Sprintf("dlq %s %d %s %s", d.Subject, d.Seq, d.Reason, d.Payload)
		if seen[k] {
			t.Errorf("dead letter committed twice: %s", k)
		}
		seen[k] = true
	}
}

// compareOutputs fails with the first differing line of each partition: the stored lines of each subject, and
// the order of the marks across subjects.
func compareOutputs(t *testing.T, want, got outputs, partitions int) {
	t.Helper()
	for p := range partitions {
		firstDifference(t, fmt.Sprintf("partition %d", p), want.raw[p], got.raw[p])
		firstDifference(t, fmt.Sprintf("partition %d mark order", p),
			strings.Join(want.markOrder[p], "\n"), strings.Join(got.markOrder[p], "\n"))
	}
}

func firstDifference(t *testing.T, what, w, g string) {
	t.Helper()
	if w == g {
		return
	}
	wl, gl := strings.Split(w, "\n"), strings.Split(g, "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var a, b string
		if i < len(wl) {
			a = wl[i]
		}
		if i < len(gl) {
			b = gl[i]
		}
		if a != b {
			t.Errorf("%s differs at line %d (of %d want, %d got):\nwant %s\ngot  %s", what, i, len(wl), len(gl), a, b)
			return
		}
	}
}
