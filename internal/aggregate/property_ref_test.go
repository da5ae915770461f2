package aggregate

import (
	"slices"
	"time"

	"pgregory.net/rapid"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// refKey is a record identity; refVal the reference aggregate.
type refKey struct {
	product, contract, sub, item string
	tier                         int
	start                        int64
}

type refVal struct {
	agg         events.Aggregation
	qty, amount events.Decimal
	hasAmount   bool
	n           int64
	lastAt      time.Time
	uniq        map[string]bool
	digest      events.Digest
	closeAt     time.Time // of its period
}

type reference struct {
	vals        map[refKey]*refVal
	deadLetters int
	end         time.Time // the last clock: periods closed by then have records
}

// refFold is the state of the reference fold of one partition: a monotonic clock, the catalog's periods, and a
// memory of every applied id with the clock of its application.
type refFold struct {
	reference
	pr    *partRun
	gen   map[string]genEvent // by event id
	seen  map[events.Key]time.Time
	clock time.Time
}

// referenceFold folds partition pr's stream the simple way. An event is valid by the catalog in force at its
// message (an added product, item or contract from the switch on) unless its period closed before MarkFrom or
// is older than the max event age. An id is a duplicate within exactly the horizon after its application and not from 9/8 of the
// horizon on; in between (the documented slack) it may be either, and the uninterrupted run's count of
// duplicates per message (dups) decides, if the slack allows that count at all.
func referenceFold(t *rapid.T, pr *partRun, gen []genEvent, dups []int) reference {
	rf := &refFold{reference: reference{vals: map[refKey]*refVal{}}, pr: pr, gen: map[string]genEvent{},
		seen: map[events.Key]time.Time{}}
	for _, g := range gen {
		rf.gen[g.e.ID] = g
	}
	for i, m := range pr.msgs {
		if m.Arrival.After(rf.clock) {
			rf.clock = m.Arrival
		}
		for j, dup := range rf.resolveDups(t, i, m.Events, dups[i]) {
			if !dup {
				rf.apply(i, m.Events[j])
			}
		}
	}
	rf.end = rf.clock
	return rf.reference
}

// resolveDups says which events of message i are duplicates. The implementation forgets an older id no later
// than a newer one, so the slack's choice is a threshold τ: ids in the slack applied at or after τ are still
// remembered. It tries every threshold and keeps the one whose duplicates number want.
func (rf *refFold) resolveDups(t *rapid.T, i int, evs []events.Event, want int) []bool {
	thresholds := []time.Time{{}, rf.clock.Add(time.Nanosecond)} // everything in the slack remembered, or nothing
	for _, e := range evs {
		if at, ok := rf.seen[e.Key()]; ok && rf.inSlack(at) {
			thresholds = append(thresholds, at)
		}
	}
	slices.SortFunc(thresholds, time.Time.Compare)
	for _, tau := range thresholds {
		if flags, n := rf.dupsWith(i, evs, tau); n == want {
			return flags
		}
	}
	t.Fatalf("message %d: %d duplicates, which the dedup horizon and its slack do not allow", i, want)
	return nil
}

func (rf *refFold) inSlack(at time.Time) bool {
	h := rf.pr.cfg0.horizon()
	age := rf.clock.Sub(at)
	return age >= h && age < h*9/8
}

// dupsWith flags the duplicates among evs when the ids in the slack applied at or after tau are remembered.
func (rf *refFold) dupsWith(i int, evs []events.Event, tau time.Time) ([]bool, int) {
	applied := map[events.Key]bool{} // applied in this message: remembered whatever the slack
	flags, n := make([]bool, len(evs)), 0
	for j, e := range evs {
		at, seen := rf.seen[e.Key()]
		age := rf.clock.Sub(at)
		h := rf.pr.cfg0.horizon()
		flags[j] = applied[e.Key()] || seen && (age < h || age < h*9/8 && !at.Before(tau))
		if flags[j] {
			n++
		} else if rf.valid(i, e) {
			applied[e.Key()] = true
		}
	}
	return flags, n
}

// valid reports whether message i's event e folds (it is not a dead letter): not too late, and not too old,
// i.e. in a period that closed (end + allowed lateness) at or before MarkFrom, which no partition marks.
func (rf *refFold) valid(i int, e events.Event) bool {
	g := rf.gen[e.ID]
	if !g.valid || g.added && i < rf.pr.switchAt {
		return false
	}
	p, _ := rf.pr.cfg1.Catalog.Product(e.Data.Product)
	pd := p.Period.Containing(e.Time)
	return p.CloseAt(pd).After(rf.pr.cfg0.MarkFrom) && rf.clock.Before(pd.End.Add(p.MaxEventAge))
}

func (rf *refFold) apply(i int, e events.Event) {
	if !rf.valid(i, e) {
		rf.deadLetters++
		return
	}
	rf.seen[e.Key()] = rf.clock
	p, _ := rf.pr.cfg1.Catalog.Product(e.Data.Product)
	rf.add(p, p.Period.Containing(e.Time), e)
}

func (ref reference) add(p *events.Product, pd events.Period, e events.Event) {
	it, _ := p.Item(e.Data.Item)
	contract, _ := p.ContractFor(&e)
	k := refKey{p.ID, contract, e.Subject, it.MPN, e.Data.Tier, pd.Start.UnixNano()}
	v := ref.vals[k]
	if v == nil {
		v = &refVal{agg: it.Aggregation, uniq: map[string]bool{}, closeAt: p.CloseAt(pd)}
		ref.vals[k] = v
	}
	q := e.Data.Quantity
	switch it.Aggregation {
	case events.AggregationSum:
		v.qty = v.qty.Add(q)
	case events.AggregationMax:
		if v.n == 0 || q.Cmp(v.qty) > 0 {
			v.qty = q
		}
	case events.AggregationMin:
		if v.n == 0 || q.Cmp(v.qty) < 0 {
			v.qty = q
		}
	case events.AggregationLast:
		if v.n == 0 || !e.Time.Before(v.lastAt) {
			v.qty, v.lastAt = q, e.Time
		}
	case events.AggregationUniqueCount:
		v.uniq[e.Data.Attributes[it.UniqueAttribute]] = true
	}
	if e.Data.Amount != nil {
		v.amount, v.hasAmount = v.amount.Add(*e.Data.Amount), true
	}
	v.n++
	v.digest.Add(e.Key())
}

func (v *refVal) value() events.Decimal {
	switch v.agg {
	case events.AggregationCount:
		return events.DecimalFromInt(v.n)
	case events.AggregationUniqueCount:
		return events.DecimalFromInt(int64(len(v.uniq)))
	}
	return v.qty
}

// emitted is a key's value as a consumer of the records computes it.
type emitted struct {
	qty, amount events.Decimal
	hasAmount   bool
	n           int64
	digest      events.Digest
	revision    int
}

func checkTotals(t *rapid.T, lines []outLine, ref reference) {
	got := map[refKey]*emitted{}
	marked := map[string]int{}
	closedPer := map[string]int{}
	adjusted := map[string]bool{}
	dls := 0
	for _, l := range lines {
		switch {
		case l.Closed != nil:
			foldRecord(t, got, l.Closed)
			pk := markKey(l.Closed.Product, l.Closed.Contract, l.Closed.PeriodStart)
			if _, done := marked[pk]; done {
				t.Fatalf("closed record after the mark of its period: %+v", l.Closed)
			}
			closedPer[pk]++
		case l.Adjustment != nil:
			foldRecord(t, got, l.Adjustment)
			adjusted[markKey(l.Adjustment.Product, l.Adjustment.Contract, l.Adjustment.PeriodStart)] = true
		case l.Mark != nil:
			pk := markKey(l.Mark.Product, l.Mark.Contract, l.Mark.PeriodStart)
			if l.Mark.Records != closedPer[pk] {
				t.Fatalf("mark %+v counts %d records, %d were emitted", l.Mark, l.Mark.Records, closedPer[pk])
			}
			marked[pk]++
		case l.DeadLetter != nil:
			dls++
		}
	}
	if dls != ref.deadLetters {
		t.Fatalf("%d dead letters, the reference has %d", dls, ref.deadLetters)
	}
	checkMarkedOnce(t, marked, closedPer, adjusted)
	compareTotals(t, got, ref)
}

// checkMarkedOnce checks that every period is marked at most once, and that every period with records (closed
// ones or adjustments, which the submitter files only for a marked period) is marked.
func checkMarkedOnce(t *rapid.T, marked, closedPer map[string]int, adjusted map[string]bool) {
	for pk, n := range marked {
		if n != 1 {
			t.Fatalf("%d marks for %s", n, pk)
		}
	}
	for pk := range closedPer {
		if marked[pk] != 1 {
			t.Fatalf("closed records of %s without a mark", pk)
		}
	}
	for pk := range adjusted {
		if marked[pk] != 1 {
			t.Fatalf("adjustments of %s, which is never marked", pk)
		}
	}
}

func markKey(product, contract string, start time.Time) string {
	return product + "/" + contract + "/" + start.UTC().Format(time.RFC3339)
}

func foldRecord(t *rapid.T, got map[refKey]*emitted, r *events.PeriodRecord) {
	k := refKey{r.Product, r.Contract, r.Subscription, r.Item, r.Tier, r.PeriodStart.UnixNano()}
	g := got[k]
	if g == nil {
		g = &emitted{revision: -1}
		got[k] = g
	}
	if r.Revision != g.revision+1 && !(g.revision == -1 && r.Revision == 1) {
		t.Fatalf("revision %d after %d: %+v", r.Revision, g.revision, r)
	}
	g.revision = r.Revision
	switch r.Mode {
	case events.ModeTotal, events.ModeReplace:
		if r.Mode == events.ModeReplace && r.Revision > 1 && (r.Previous == nil || r.Previous.Cmp(g.qty) != 0) {
			t.Fatalf("previous %s, the value was %s: %+v", decStr(r.Previous), g.qty, r)
		}
		g.qty = r.Quantity
	case events.ModeDelta:
		g.qty = g.qty.Add(r.Quantity)
	}
	if r.Amount != nil {
		g.amount, g.hasAmount = g.amount.Add(*r.Amount), true
	}
	g.n += r.Events
	d, err := events.ParseDigest(r.Digest)
	if err != nil {
		t.Fatal(err)
	}
	g.digest.Merge(d)
}

// compareTotals compares the totals of every key whose period closed by the end of the stream (a monthly
// period may still be open) with the reference's.
func compareTotals(t *rapid.T, got map[refKey]*emitted, ref reference) {
	for k, v := range ref.vals {
		g := got[k]
		if v.closeAt.After(ref.end) {
			if g != nil {
				t.Fatalf("record for %+v, whose period is open", k)
			}
			continue
		}
		if g == nil {
			t.Fatalf("no record for %+v (reference %s)", k, v.value())
		}
		if g.qty.Cmp(v.value()) != 0 || g.hasAmount != v.hasAmount || g.amount.Cmp(v.amount) != 0 {
			t.Fatalf("%+v: emitted %s amount %s, reference %s amount %s", k, g.qty, g.amount, v.value(), v.amount)
		}
		// Lineage is complete for additive aggregations; others skip adjustments that change nothing.
		if additive := v.agg == events.AggregationSum || v.agg == events.AggregationCount; additive && (g.n != v.n || g.digest != v.digest) {
			t.Fatalf("%+v: emitted %d events digest %s, reference %d %s", k, g.n, g.digest, v.n, v.digest)
		}
	}
	for k := range got {
		if ref.vals[k] == nil {
			t.Fatalf("record for %+v, which the reference does not have", k)
		}
	}
}
