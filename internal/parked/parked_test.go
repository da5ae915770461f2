package parked

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/natsembed/natsembedtest"
	"github.com/usagepipe/usagepipe/pkg/events"
)

const testCatalog = `products:
  - id: PRD-P
    name: P
    schema: QT
    currency: USD
    contracts: [CRD-P]
    period: {kind: daily}
    items:
      - {mpn: UNITS, name: Units, unit: unit, precision: decimal(2), aggregation: sum}
`

var (
	day   = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	actor = ledger.Actor{Name: "alice", Via: "test"}
)

// newService is the service over an embedded JetStream's ledger, without Connect.
func newService(t *testing.T) (*Service, *ledger.Store) {
	t.Helper()
	ctx := context.Background()
	srv := natsembedtest.Start(t)
	conn, err := bus.Connect(ctx, bus.Config{URL: srv.URL(), Name: t.Name(), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	if err := conn.Provision(ctx, bus.Topology{Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := events.ParseCatalog([]byte(testCatalog))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(l, conn, nil, cat)
	if err != nil {
		t.Fatal(err)
	}
	return s, l
}

// entry writes an entry of product's revision rev, part, in state with reason (and a file when file != "").
func entry(t *testing.T, l *ledger.Store, product string, rev, part int, state ledger.State, reason, file string) *ledger.Entry {
	t.Helper()
	id := ledger.FileID{Product: product, Contract: "CRD-P", PeriodStart: day, Revision: rev, Part: part}
	e := &ledger.Entry{Key: id.Key(), Product: product, Contract: "CRD-P", PeriodStart: day, PeriodEnd: day.AddDate(0, 0, 1),
		Revision: rev, Part: part, Parts: 1, State: state, Reason: reason, FileID: file, ExternalID: id.ExternalID(),
		History: []ledger.Transition{{State: state, At: day}}}
	if _, err := l.Create(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	return e
}

func refused(t *testing.T, err error, why string) {
	t.Helper()
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), why) {
		t.Fatalf("got %v, want a refusal saying %q", err, why)
	}
}

func TestReasonCodes(t *testing.T) {
	for reason, want := range map[string]string{
		"submitter: permanent failure: records_missing: submitter: period records incomplete": "records_missing",
		"submitter: permanent failure: base_rejected: the period's file x is rejected":        "base_rejected",
		"Connect file UF-1 is deleted": "failed",
		"":                             "",
	} {
		if got := reasonCode(&ledger.Entry{State: ledger.StateFailed, Reason: reason}); got != want {
			t.Errorf("%q: %q, want %q", reason, got, want)
		}
	}
	if got := reasonCode(&ledger.Entry{State: ledger.StateRejected, Reason: "x"}); got != "rejected" {
		t.Errorf("rejected: %q", got)
	}
}

// TestRetryIsRefusedWhileTheCauseShows: a product still missing from the catalog, a source_changed revision
// with a Connect file, a supplement whose base is still rejected, and an entry with a file are refused.
func TestRetryIsRefusedWhileTheCauseShows(t *testing.T) {
	s, l := newService(t)
	ctx := context.Background()
	gone := entry(t, l, "PRD-GONE", 0, 1, ledger.StateFailed, "submitter: permanent failure: unknown_product: x", "")
	_, err := s.Retry(ctx, gone.Key, actor, "")
	refused(t, err, "PRD-GONE is still not in the catalog")
	entry(t, l, "PRD-P", 0, 1, ledger.StateRejected, "", "UF-1")
	supp := entry(t, l, "PRD-P", 1, 1, ledger.StateFailed, "submitter: permanent failure: base_rejected: the base", "")
	_, err = s.Retry(ctx, ledger.ParkedKey(supp.ID()), actor, "")
	refused(t, err, "is rejected: resubmit it first")
	_, err = s.Retry(ctx, "file.PRD-P.CRD-P.20261120T000000Z.r0.p1", actor, "")
	refused(t, err, "no part of its revision is parked before Connect had a file")
	_, err = s.Resubmit(ctx, "UF-1", actor, "")
	refused(t, err, "needs Connect")
	_, err = s.Resubmit(ctx, supp.Key, actor, "")
	refused(t, err, "retry it instead")
}

// TestRetryOfAFixedCauseDeletesTheFailedParts: once the catalog has the product, a retry logs the action and
// deletes the failed part without a file; run again, it has nothing left to do.
func TestRetryOfAFixedCauseDeletesTheFailedParts(t *testing.T) {
	s, l := newService(t)
	ctx := context.Background()
	e := entry(t, l, "PRD-P", 0, 1, ledger.StateFailed, "submitter: permanent failure: unknown_product: x", "")
	res, err := s.Retry(ctx, e.Key, actor, "catalog fixed")
	if err != nil || len(res.Entries) != 1 || res.Entries[0] != e.Key {
		t.Fatalf("retry: %+v, %v", res, err)
	}
	if _, _, err := l.Get(ctx, e.Key); !errors.Is(err, bus.ErrNotFound) {
		t.Fatalf("the failed part is still there: %v", err)
	}
	acts, err := l.Actions(ctx, "PRD-P", "CRD-P", day)
	if err != nil || len(acts) != 1 || acts[0].Actor != actor || acts[0].Note != "catalog fixed" || acts[0].Action != ActionRetry {
		t.Fatalf("actions %+v, %v", acts, err)
	}
	if _, err := s.Retry(ctx, e.Key, actor, ""); err == nil {
		t.Fatal("a retry of a revision no longer in the ledger was done")
	}
}

// TestAbandonAndList: abandoning needs a note and a parked entry; an abandoned entry leaves the list but for
// --all, with who and why in its history.
func TestAbandonAndList(t *testing.T) {
	s, l := newService(t)
	ctx := context.Background()
	e := entry(t, l, "PRD-P", 0, 1, ledger.StateRejected, "", "UF-2")
	entry(t, l, "PRD-P", 2, 1, ledger.StateAccepted, "", "UF-3")
	views, err := s.List(ctx, ListFilter{})
	if err != nil || len(views) != 1 || views[0].Key != e.Key || views[0].Can[0] != ActionResubmit {
		t.Fatalf("list %+v, %v", views, err)
	}
	_, err = s.Abandon(ctx, e.Key, actor, "")
	refused(t, err, "a note")
	if _, err := s.Abandon(ctx, "UF-2", actor, "the customer left"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Abandon(ctx, e.Key, actor, "again")
	refused(t, err, "not parked")
	if views, _ := s.List(ctx, ListFilter{}); len(views) != 0 {
		t.Errorf("abandoned still listed: %+v", views)
	}
	views, _ = s.List(ctx, ListFilter{All: true})
	if len(views) != 1 || views[0].State != ledger.StateAbandoned {
		t.Fatalf("list --all %+v", views)
	}
	v, err := s.Show(ctx, e.Key)
	last := v.Entry.History[len(v.Entry.History)-1]
	if err != nil || last.By != actor.String() || !strings.Contains(last.Note, "the customer left") || len(v.History) != 1 {
		t.Fatalf("show %+v, %v", v, err)
	}
}
