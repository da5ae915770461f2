package submitter

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// hookedBus is the test's JetStream with hooks, each run once at one point of a planner's work, where the
// test runs another planner's steps: two submitters interleaved deterministically, in the order that loses.
// Keys are "before-last:", "after-last:" (around LastMsg) and "before-read:" (Read), then the subject filter.
type hookedBus struct {
	*bus.Conn
	mu    sync.Mutex
	hooks map[string]func()
}

func (b *hookedBus) on(point, subject string, fn func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.hooks == nil {
		b.hooks = map[string]func(){}
	}
	b.hooks[point+subject] = fn
}

// pending reports whether a hook has not run yet.
func (b *hookedBus) pending() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.hooks) > 0
}

func (b *hookedBus) run(point, subject string) {
	b.mu.Lock()
	fn := b.hooks[point+subject]
	delete(b.hooks, point+subject)
	b.mu.Unlock()
	if fn != nil {
		fn()
	}
}

func (b *hookedBus) LastMsg(ctx context.Context, stream, subject string) (bus.Msg, error) {
	b.run("before-last:", subject)
	m, err := b.Conn.LastMsg(ctx, stream, subject)
	b.run("after-last:", subject)
	return m, err
}

func (b *hookedBus) Read(ctx context.Context, stream string, o bus.ReadOptions, fn func(bus.Msg) error) error {
	b.run("before-read:", strings.Join(o.Filters, ","))
	return b.Conn.Read(ctx, stream, o, fn)
}

// planner is a submitter whose planning steps the test calls directly (Run is never called).
func (env *testEnv) planner(limit int) (*Submitter, *hookedBus) {
	env.t.Helper()
	o := env.options()
	o.MaxRecordsPerFile = limit
	o.AckWait = time.Hour // deliveries here are not from a consumer: never extend them
	hb := &hookedBus{Conn: env.conn}
	s, err := New(hb, o)
	if err != nil {
		env.t.Fatal(err)
	}
	s.useLedger(env.ledger)
	return s, hb
}

// adjustOne commits one adjustment message of pd, sub's CPU_HOURS and API_CALLS (revision 1), and returns
// the adjustments.
func (env *testEnv) adjustOne(pd events.Period, sub string) []events.PeriodRecord {
	recs := adjustmentsOf(pd, sub, 1)
	env.agg.adjust(env.t, recs)
	return recs
}

// adjustmentsOf are revision rev of sub's CPU_HOURS and API_CALLS in pd: each adds 2.
func adjustmentsOf(pd events.Period, sub string, rev int) []events.PeriodRecord {
	var recs []events.PeriodRecord
	for _, item := range []string{"CPU_HOURS", "API_CALLS"} {
		recs = append(recs, events.PeriodRecord{Kind: events.RecordAdjustment, Product: testProduct, Contract: testContract,
			Subscription: sub, Item: item, PeriodStart: pd.Start, PeriodEnd: pd.End, Revision: rev, Mode: events.ModeDelta,
			Aggregation: aggregationOf(item), Quantity: events.MustDecimal("2"), Events: 1,
			Partition: events.Partition(sub, testPartitions)})
	}
	return recs
}

// deliveries returns the messages on filter as a consumer would deliver them.
func (env *testEnv) deliveries(filter string) []*bus.Delivery {
	env.t.Helper()
	var out []*bus.Delivery
	err := env.conn.Read(context.Background(), bus.StreamAgg, bus.ReadOptions{Filters: []string{filter}}, func(m bus.Msg) error {
		out = append(out, &bus.Delivery{Msg: m, NumDelivered: 1})
		return nil
	})
	if err != nil {
		env.t.Fatal(err)
	}
	return out
}

// adjustmentIDs returns the record ids of the adjustments in msgs that change something.
func adjustmentIDs(t *testing.T, msgs []*bus.Delivery) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	for _, m := range msgs {
		recs, err := decodeLines[events.PeriodRecord](m.Data)
		if err != nil {
			t.Fatal(err)
		}
		for i := range recs {
			if !changesNothing(&recs[i]) {
				ids[recs[i].RecordID()] = true
			}
		}
	}
	return ids
}

// revisions returns the ledger entries of pd by revision, each revision's parts in order.
func (env *testEnv) revisions(pd events.Period) map[int][]*ledger.Entry {
	env.t.Helper()
	keys, err := env.ledger.Keys(context.Background(), ledger.FilesPrefix)
	if err != nil {
		env.t.Fatal(err)
	}
	out := map[int][]*ledger.Entry{}
	prefix := ledger.PeriodPrefix(testProduct, testContract, pd.Start)
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		e, _, err := env.ledger.Get(context.Background(), k)
		if err != nil {
			env.t.Fatal(err)
		}
		parts := out[e.Revision]
		for len(parts) < e.Part {
			parts = append(parts, nil)
		}
		parts[e.Part-1] = e
		out[e.Revision] = parts
	}
	return out
}

// checkRevision checks that a revision's parts are all there and come from one plan, and counts the
// records they hold by id.
func checkRevision(t *testing.T, s *Submitter, rev int, parts []*ledger.Entry, seen map[string]int) {
	t.Helper()
	if len(parts) == 0 || parts[0] == nil {
		t.Errorf("revision %d: no part 1", rev)
		return
	}
	first := parts[0]
	if len(parts) != first.Parts {
		t.Errorf("revision %d: %d parts in the ledger, part 1 planned %d", rev, len(parts), first.Parts)
	}
	for _, e := range parts {
		if e == nil {
			t.Errorf("revision %d: a part is missing", rev)
			continue
		}
		if e.FromSeq != first.FromSeq || e.ToSeq != first.ToSeq || e.Limit != first.Limit || e.Parts != first.Parts {
			t.Errorf("%s: range (%d, %d] limit %d parts %d; part 1 has (%d, %d] limit %d parts %d", e.Key,
				e.FromSeq, e.ToSeq, e.Limit, e.Parts, first.FromSeq, first.ToSeq, first.Limit, first.Parts)
		}
		recs, err := s.drive.partSources(context.Background(), e)
		if err != nil {
			t.Errorf("%s: %v", e.Key, err)
		}
		for _, r := range recs {
			seen[r.id]++
		}
	}
}

// checkOnce checks that every wanted record id was planned exactly once, and nothing else.
func checkOnce(t *testing.T, seen map[string]int, want map[string]bool) {
	t.Helper()
	for id := range want {
		if seen[id] != 1 {
			t.Errorf("record %s planned %d times, want once", id, seen[id])
		}
	}
	for id, n := range seen {
		if !want[id] {
			t.Errorf("record %s planned %d times, want none", id, n)
		}
	}
}

// checkSupplements checks pd's supplements against its adjustment messages: revisions 1..next−1, each from
// one plan, with contiguous and disjoint ranges from 0 up to the index's covered sequence, which is the
// newest message; every message in exactly one range and every adjustment in exactly one file.
func checkSupplements(t *testing.T, env *testEnv, s *Submitter, pd events.Period, msgs []*bus.Delivery, want map[string]bool) {
	t.Helper()
	idx, _, err := env.ledger.Index(context.Background(), ledger.SupplementIndexKey(testProduct, testContract, pd.Start))
	if err != nil {
		t.Fatal(err)
	}
	revs := env.revisions(pd)
	seen := map[string]int{}
	covered := uint64(0)
	for rev := 1; rev < idx.Next; rev++ {
		checkRevision(t, s, rev, revs[rev], seen)
		if len(revs[rev]) > 0 && revs[rev][0] != nil {
			if first := revs[rev][0]; first.FromSeq != covered {
				t.Errorf("supplement %d covers (%d, %d], want it to start at %d", rev, first.FromSeq, first.ToSeq, covered)
			}
			covered = revs[rev][0].ToSeq
		}
	}
	for rev := range revs {
		if rev >= idx.Next {
			t.Errorf("supplement %d is in the ledger beyond the index %+v", rev, idx)
		}
	}
	if idx.Covered != covered || covered != msgs[len(msgs)-1].Seq {
		t.Errorf("index %+v; the supplements cover up to %d, the newest adjustment is at %d", idx, covered, msgs[len(msgs)-1].Seq)
	}
	for _, d := range msgs {
		n := 0
		for rev := 1; rev < idx.Next; rev++ {
			if e := revs[rev]; len(e) > 0 && e[0] != nil && e[0].FromSeq < d.Seq && d.Seq <= e[0].ToSeq {
				n++
			}
		}
		if n != 1 {
			t.Errorf("adjustment message %d is in %d supplements, want 1", d.Seq, n)
		}
	}
	checkOnce(t, seen, want)
}

// TestRacingPlannersSupplementsStayContiguous interleaves two submitters planning supplement 1 of a period:
// the loser has looked at the ledger (no supplement yet) and read the newest adjustment when the winner
// writes supplement 1 from a different newest adjustment, and the loser's index write lands before the
// winner's. The index must move to what the winner's entry covers, not to what the loser read: else the
// ranges overlap (an adjustment billed twice) or leave a gap (an adjustment never billed).
func TestRacingPlannersSupplementsStayContiguous(t *testing.T) {
	for _, tc := range []struct {
		name  string
		point string // where the winner plans, in the loser's work
	}{
		{"winner read more", "after-last:"},   // the loser read m2, the winner m3: overlap
		{"winner read fewer", "before-last:"}, // the winner read m2, the loser m3: gap
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, autoAccept)
			pd := period(1)
			filter := subjects.Adjustments.Period(testProduct, testContract, pd.Start)
			loser, hooks := env.planner(DefaultMaxRecordsPerFile)
			winner, _ := env.planner(1) // one adjustment per part: the winner's plan has several parts
			env.agg.close(t, pd, nil)   // no closed records: supplement 1 need not wait for a base
			env.adjustOne(pd, "AS-RACE-0001")
			env.adjustOne(pd, "AS-RACE-0002")
			msgs := env.deliveries(filter)
			ctx := context.Background()
			p := supplementPeriod{product: testProduct, contract: testContract, start: pd.Start, end: pd.End}

			hooks.on(tc.point, filter, func() {
				if tc.point == "after-last:" {
					env.adjustOne(pd, "AS-RACE-0003")
				}
				// The winner writes supplement 1; its index write comes later (slow, or it crashed).
				if _, err := winner.plan.planSupplementFiles(ctx, p, ledger.SupplementIndex{Next: 1}, triggerOf(msgs[len(msgs)-1])); err != nil {
					t.Errorf("winner: %v", err)
				}
				if tc.point == "before-last:" {
					env.adjustOne(pd, "AS-RACE-0003")
				}
			})
			if err := loser.plan.onAdjustment(ctx, msgs[1]); err != nil {
				t.Fatalf("loser: %v", err)
			}
			if hooks.pending() {
				t.Fatal("the winner never ran: no race")
			}
			msgs = env.deliveries(filter)
			want := adjustmentIDs(t, msgs)
			// The loser acked msgs[1]. Every other message is settled once, and so is the winner's delivery of
			// msgs[1] (redelivered: its planner stopped before moving the index).
			c := &consumer{t: t, planners: []*Submitter{winner, loser}, before: func() { env.handOver(pd) }}
			c.deliver(ctx, append(append([]*bus.Delivery{msgs[0]}, msgs[2:]...), msgs[1])...)
			checkSupplements(t, env, loser, pd, msgs, want)
		})
	}
}

// TestRacingPlannersClosedPartsFromOnePlan interleaves two submitters with different record limits planning
// the closed records of a period: the winner writes its plan while the loser reads the records. The loser
// must finish the winner's plan, not add parts of its own cut (records in two files).
func TestRacingPlannersClosedPartsFromOnePlan(t *testing.T) {
	for _, tc := range []struct{ winner, loser int }{{10, 2}, {2, 10}} {
		t.Run(fmt.Sprintf("limits %d then %d", tc.winner, tc.loser), func(t *testing.T) {
			env := newTestEnv(t, autoAccept)
			pd := period(1)
			records := env.closePeriod(pd, subscriptions("RACE", 3)) // 9 records
			marks := env.deliveries(subjects.Marks.Period(testProduct, testContract, pd.Start))
			loser, hooks := env.planner(tc.loser)
			winner, _ := env.planner(tc.winner)
			ctx := context.Background()
			mark := marks[len(marks)-1]

			hooks.on("before-read:", subjects.Records.Period(testProduct, testContract, pd.Start), func() {
				if err := winner.plan.onMark(ctx, mark); err != nil {
					t.Errorf("winner: %v", err)
				}
			})
			if err := loser.plan.onMark(ctx, mark); err != nil {
				t.Fatalf("loser: %v", err)
			}
			if hooks.pending() {
				t.Fatal("the winner never ran: no race")
			}
			revs := env.revisions(pd)
			if len(revs) != 1 {
				t.Errorf("revisions %v, want only 0", revs)
			}
			seen := map[string]int{}
			checkRevision(t, loser, 0, revs[0], seen)
			if first := revs[0][0]; first.Limit != tc.winner {
				t.Errorf("planned with limit %d, want the winner's %d", first.Limit, tc.winner)
			}
			want := map[string]bool{}
			for i := range records {
				want[records[i].RecordID()] = true
			}
			checkOnce(t, seen, want)
		})
	}
}
