package ledger

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/natsembed/natsembedtest"
)

// testStore is the ledger of a provisioned embedded JetStream, and its bucket.
func testStore(t *testing.T) (*Store, *bus.KV) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := natsembedtest.Start(t)
	conn, err := bus.Connect(ctx, bus.Config{URL: srv.URL(), Name: t.Name(), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	if _, err := Open(ctx, conn); !errors.Is(err, bus.ErrNotFound) {
		t.Fatalf("Open before Provision: %v, want not found", err)
	}
	if err := conn.Provision(ctx, bus.Topology{Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := conn.KV(ctx, bus.BucketLedger)
	if err != nil {
		t.Fatal(err)
	}
	return s, kv
}

func TestEntriesAreCreatedOnceAndChangedOnlyByCAS(t *testing.T) {
	s, _ := testStore(t)
	ctx := context.Background()
	e := sampleEntry()
	rev, err := s.Create(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, e); !errors.Is(err, bus.ErrExists) {
		t.Fatalf("second create: %v, want exists", err)
	}
	got, gotRev, err := s.Get(ctx, e.Key)
	if err != nil || gotRev != rev || got.Digest != e.Digest || got.State != e.State {
		t.Fatalf("get: %+v at %d, %v; want the entry at %d", got, gotRev, err, rev)
	}
	got.Uploads++
	newRev, err := s.Update(ctx, got, rev)
	if err != nil || newRev <= rev {
		t.Fatalf("update at the revision read: %d, %v", newRev, err)
	}
	if _, err := s.Update(ctx, got, rev); !errors.Is(err, bus.ErrRevisionMismatch) {
		t.Fatalf("update at a stale revision: %v, want a mismatch", err)
	}
	if _, err := s.Update(ctx, got, 0); err == nil || errors.Is(err, bus.ErrRevisionMismatch) {
		t.Fatalf("update without a revision: %v, want it refused before the bucket", err)
	}
	if _, _, err := s.Get(ctx, FileID{Product: "none", Contract: "C", Part: 1}.Key()); !errors.Is(err, bus.ErrNotFound) {
		t.Fatalf("get of a missing key: %v, want not found", err)
	}
}

func TestEntriesByPrefix(t *testing.T) {
	s, kv := testStore(t)
	ctx := context.Background()
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	ids := []FileID{
		{Product: "P", Contract: "C", PeriodStart: day, Revision: 0, Part: 1},
		{Product: "P", Contract: "C", PeriodStart: day, Revision: 1, Part: 1},
		{Product: "P", Contract: "C", PeriodStart: day, Revision: 1, Part: 2},
		{Product: "P", Contract: "C", PeriodStart: day, Revision: 10, Part: 1},
		{Product: "P", Contract: "C", PeriodStart: day.AddDate(0, 0, 1), Revision: 0, Part: 1},
	}
	for _, id := range ids {
		if _, err := s.Create(ctx, &Entry{Key: id.Key(), Product: id.Product, Contract: id.Contract, PeriodStart: id.PeriodStart,
			Revision: id.Revision, Part: id.Part, State: StatePlanned}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutIndex(ctx, SupplementIndexKey("P", "C", day), SupplementIndex{Next: 2, Covered: 7}, 0); err != nil {
		t.Fatal(err)
	}
	if err := kv.Delete(ctx, ids[2].Key(), 0); err != nil { // an operator deleted it
		t.Fatal(err)
	}
	for _, tc := range []struct {
		prefix string
		want   []FileID
	}{
		{FilesPrefix, []FileID{ids[0], ids[1], ids[3], ids[4]}},
		{PeriodPrefix("P", "C", day), []FileID{ids[0], ids[1], ids[3]}},
		{RevisionPrefix(ids[1]), []FileID{ids[1]}},
		{RevisionPrefix(FileID{Product: "P", Contract: "C", PeriodStart: day, Revision: 2}), nil},
	} {
		entries, err := s.Entries(ctx, tc.prefix)
		if err != nil {
			t.Fatal(err)
		}
		var got []FileID
		for _, e := range entries {
			got = append(got, e.ID())
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: %v, want %v", tc.prefix, got, tc.want)
			continue
		}
		for i := range got {
			if !got[i].PeriodStart.Equal(tc.want[i].PeriodStart) || got[i].Key() != tc.want[i].Key() {
				t.Errorf("%s: %v, want %v", tc.prefix, got, tc.want)
			}
		}
	}
}

func TestSupplementIndexIsCreatedThenCAS(t *testing.T) {
	s, _ := testStore(t)
	ctx := context.Background()
	key := SupplementIndexKey("P", "C", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
	idx, rev, err := s.Index(ctx, key)
	if err != nil || rev != 0 || idx != (SupplementIndex{Next: 1}) {
		t.Fatalf("no index yet: %+v at %d, %v; want {1 0} at 0", idx, rev, err)
	}
	if err := s.PutIndex(ctx, key, SupplementIndex{Next: 2, Covered: 5}, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.PutIndex(ctx, key, SupplementIndex{Next: 2, Covered: 6}, 0); !errors.Is(err, bus.ErrExists) {
		t.Fatalf("a second create: %v, want exists", err)
	}
	idx, rev, err = s.Index(ctx, key)
	if err != nil || idx != (SupplementIndex{Next: 2, Covered: 5}) {
		t.Fatalf("index %+v, %v", idx, err)
	}
	if err := s.PutIndex(ctx, key, SupplementIndex{Next: 3, Covered: 9}, rev); err != nil {
		t.Fatal(err)
	}
	if err := s.PutIndex(ctx, key, SupplementIndex{Next: 3, Covered: 10}, rev); !errors.Is(err, bus.ErrRevisionMismatch) {
		t.Fatalf("a stale update: %v, want a mismatch", err)
	}
}

func TestParkedKeyIsNotedOnceAndDeletedByCAS(t *testing.T) {
	s, _ := testStore(t)
	ctx := context.Background()
	e := sampleEntry()
	e.State, e.FileID, e.Reason = StateFailed, "", "records_missing: 3 of 4"
	withFile := sampleEntry()
	withFile.State = StateFailed
	for _, x := range []*Entry{withFile, {State: StatePlanned}} {
		if err := s.NotePark(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if keys, err := s.Keys(ctx, ParkedPrefix); err != nil || len(keys) != 0 {
		t.Fatalf("parked keys %v, %v: an entry with a file, or not failed, was noted", keys, err)
	}
	for range 2 {
		if err := s.NotePark(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	key := ParkedKey(e.ID())
	p, rev, err := s.Parked(ctx, key)
	want := Parked{Product: e.Product, Contract: e.Contract, PeriodStart: e.PeriodStart, PeriodEnd: e.PeriodEnd, Revision: e.Revision,
		FromSeq: e.FromSeq, ToSeq: e.ToSeq, Since: e.ClosedAt, Reason: e.Reason}
	if err != nil || p != want || p.First() != (FileID{Product: "PRD-1", Contract: "CRD-1", PeriodStart: e.PeriodStart, Revision: 1, Part: 1}) {
		t.Fatalf("parked %+v, %v; want %+v", p, err, want)
	}
	if err := s.DeleteParked(ctx, key, 0); err == nil {
		t.Fatal("a delete without a revision was done")
	}
	if err := s.DeleteParked(ctx, key, rev+1); !errors.Is(err, bus.ErrRevisionMismatch) {
		t.Fatalf("a stale delete: %v, want a mismatch", err)
	}
	if err := s.DeleteParked(ctx, key, rev); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Parked(ctx, key); !errors.Is(err, bus.ErrNotFound) {
		t.Fatalf("parked key after its delete: %v", err)
	}
}
