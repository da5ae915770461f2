package usageapi_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
	"github.com/usagepipe/usagepipe/pkg/usageapi/usageapitest"
)

// These tests run the client against the emulator with its list-lag and commit-drop faults on files.create.
// With the default ListLag (2s) a lag-aware lookup is one list and three more after its waits.

// instantClock makes every wait return at once: the tests count lists, not time.
type instantClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *instantClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *instantClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	c.mu.Unlock()
	return ch
}

// emulated is an emulator over HTTP with faults on files.create and a client of it.
func emulated(t *testing.T, faults string, retry usageapi.RetryPolicy) (*connectemu.Emulator, *usageapi.Client) {
	t.Helper()
	s := usageapitest.NewServer(t, connectemu.Options{}, usageapi.WithRetry(retry), usageapi.WithClock(&instantClock{now: time.Now()}))
	if faults != "" {
		f, err := connectemu.ParseFaults(faults)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetFaults("files.create", f...); err != nil {
			t.Fatal(err)
		}
	}
	return s.Emulator, s.Client
}

func lagRequest(ext string) usageapi.CreateFileRequest {
	period := usageapi.Period{From: usageapi.DateOf(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)),
		To: usageapi.DateOf(time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC))}
	return usageapi.CreateFileRequest{Name: "lag " + ext, ExternalID: ext, Period: &period,
		Product: &usageapi.IDRef{ID: "PRD-000-000-001"}, Contract: &usageapi.IDRef{ID: "CRD-00000-00000-00001"}}
}

// liveWith counts the emulator's files with the external id that are not deleted.
func liveWith(em *connectemu.Emulator, ext string) (ids []string) {
	for _, f := range em.Files() {
		if f.ExternalID == ext && f.Status != usageapi.FileStatusDeleted {
			ids = append(ids, f.ID)
		}
	}
	return ids
}

// TestDuplicateCheckWaitsOutTheListLag: the first create is made but its answer is lost, and lists miss
// the file for 6 lists: the lag-aware lookup (lists 2–5) misses it, so a second file is made; its duplicate
// check must keep looking (lists 6–9) until the older file shows, then delete the new one. Checking once
// (list 6) would keep both.
func TestDuplicateCheckWaitsOutTheListLag(t *testing.T) {
	em, c := emulated(t, "commit-drop,list-lag:6", usageapi.RetryPolicy{InitialInterval: time.Millisecond})
	f, created, err := c.FindOrCreateFile(t.Context(), lagRequest("usagepipe:lag-settle"))
	if err != nil {
		t.Fatal(err)
	}
	live := liveWith(em, "usagepipe:lag-settle")
	if len(live) != 1 || live[0] != f.ID || !created {
		t.Errorf("live files %v, returned %s (created %v); want exactly the first one, created", live, f.ID, created)
	}
}

// TestAmbiguousCreateThenWaitLag: a call that does not retry reports its dropped create as ambiguous; the
// next call, told so (WaitLag), waits for the lagging list instead of creating a second file.
func TestAmbiguousCreateThenWaitLag(t *testing.T) {
	em, c := emulated(t, "commit-drop,list-lag:3", usageapi.NoRetry)
	req := lagRequest("usagepipe:lag-next")
	if _, _, err := c.FindOrCreateFile(t.Context(), req); !errors.Is(err, usageapi.ErrAmbiguousCreate) {
		t.Fatalf("dropped create: %v, want ErrAmbiguousCreate", err)
	}
	f, created, err := c.FindOrCreateFile(t.Context(), req, usageapi.WaitLag)
	if err != nil {
		t.Fatal(err)
	}
	if live := liveWith(em, req.ExternalID); len(live) != 1 || live[0] != f.ID || created {
		t.Errorf("live files %v, returned %s (created %v); want exactly the first one, found", live, f.ID, created)
	}
}

// TestFindFilesWaitLag: FindFiles misses a lagging file, and with WaitLag finds it.
func TestFindFilesWaitLag(t *testing.T) {
	em, c := emulated(t, "list-lag:2", usageapi.NoRetry)
	made, err := c.CreateFile(t.Context(), lagRequest("usagepipe:lag-find"))
	if err != nil {
		t.Fatal(err)
	}
	if files, err := c.FindFiles(t.Context(), "usagepipe:lag-find"); err != nil || len(files) != 0 {
		t.Fatalf("first lookup: %v, %v; want none (lagging)", files, err)
	}
	files, err := c.FindFiles(t.Context(), "usagepipe:lag-find", usageapi.WaitLag)
	if err != nil || len(files) != 1 || files[0].ID != made.ID {
		t.Fatalf("lag-aware lookup: %v, %v; want %s", files, err, made.ID)
	}
	if live := liveWith(em, "usagepipe:lag-find"); len(live) != 1 {
		t.Errorf("live files %v", live)
	}
}
