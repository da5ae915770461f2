package bus

import (
	"bytes"
	"crypto/rand"
	"errors"
	"slices"
	"testing"
)

func TestKVCompareAndSet(t *testing.T) {
	_, c := setup(t)
	ctx := testContext(t)
	kv, err := c.KV(ctx, BucketLeases)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, "lease.1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get missing: %v, want ErrNotFound", err)
	}
	rev, err := kv.Create(ctx, "lease.1", []byte("w1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Create(ctx, "lease.1", []byte("w2")); !errors.Is(err, ErrExists) {
		t.Fatalf("second create: %v, want ErrExists", err)
	}
	rev2, err := kv.Update(ctx, "lease.1", []byte("w1-renewed"), rev)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Update(ctx, "lease.1", []byte("w2"), rev); !errors.Is(err, ErrRevisionMismatch) {
		t.Fatalf("stale update: %v, want ErrRevisionMismatch", err)
	}
	e, err := kv.Get(ctx, "lease.1")
	if err != nil {
		t.Fatal(err)
	}
	if e.Key != "lease.1" || string(e.Value) != "w1-renewed" || e.Revision != rev2 {
		t.Fatalf("entry %+v, want w1-renewed at %d", e, rev2)
	}
	if err := kv.Delete(ctx, "lease.1", rev); !errors.Is(err, ErrRevisionMismatch) {
		t.Fatalf("stale delete: %v, want ErrRevisionMismatch", err)
	}
	if err := kv.Delete(ctx, "lease.1", rev2); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Get(ctx, "lease.1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get deleted: %v, want ErrNotFound", err)
	}
	if _, err := kv.Create(ctx, "lease.1", []byte("w2")); err != nil {
		t.Fatalf("create over a delete: %v", err)
	}
}

func TestKVKeysAndPut(t *testing.T) {
	_, c := setup(t)
	ctx := testContext(t)
	kv, err := c.KV(ctx, BucketLeases)
	if err != nil {
		t.Fatal(err)
	}
	if keys, err := kv.Keys(ctx, ""); err != nil || len(keys) != 0 {
		t.Fatalf("keys of an empty bucket: %v %v", keys, err)
	}
	for _, k := range []string{"member.b", "member.a", "lease.1", "lease.10"} {
		if _, err := kv.Put(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := kv.Delete(ctx, "member.b", 0); err != nil {
		t.Fatal(err)
	}
	for prefix, want := range map[string][]string{
		"":        {"lease.1", "lease.10", "member.a"},
		"member.": {"member.a"},
		"lease.1": {"lease.1", "lease.10"},
	} {
		keys, err := kv.Keys(ctx, prefix)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(keys, want) {
			t.Errorf("keys %q: %v, want %v", prefix, keys, want)
		}
	}
	if _, err := c.KV(ctx, "no_such_bucket"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing bucket: %v, want ErrNotFound", err)
	}
}

func TestObjectsRoundTrip(t *testing.T) {
	_, c := setup(t)
	ctx := testContext(t)
	big := make([]byte, 3<<20+17)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	if err := c.PutObject(ctx, BucketSnapshots, "p1-100", big); err != nil {
		t.Fatal(err)
	}
	if err := c.PutObject(ctx, BucketSnapshots, "p1-200", []byte("small")); err != nil {
		t.Fatal(err)
	}
	if err := c.PutObject(ctx, BucketSnapshots, "p2-100", nil); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetObject(ctx, BucketSnapshots, "p1-100")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, big) {
		t.Fatalf("object round trip: %d bytes back, want %d identical", len(got), len(big))
	}
	names, err := c.ListObjects(ctx, BucketSnapshots, "p1-")
	if err != nil || !slices.Equal(names, []string{"p1-100", "p1-200"}) {
		t.Fatalf("list p1-: %v %v", names, err)
	}
	if err := c.DeleteObject(ctx, BucketSnapshots, "p1-100"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetObject(ctx, BucketSnapshots, "p1-100"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get deleted object: %v, want ErrNotFound", err)
	}
	if names, _ := c.ListObjects(ctx, BucketSnapshots, "p1-"); !slices.Equal(names, []string{"p1-200"}) {
		t.Fatalf("list after delete: %v", names)
	}
	if err := c.DeleteObject(ctx, BucketSnapshots, "never"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete missing object: %v, want ErrNotFound", err)
	}
}
