package devstack

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/usagepipe/usagepipe/internal/dirlock"
)

// prepare is prepareDataDir with its lock released at once (the next call takes it again).
func prepare(t *testing.T, d dataDir, fresh bool, partitions int) (bool, error) {
	t.Helper()
	lock, resumed, err := prepareDataDir(d, fresh, partitions)
	if err == nil {
		if err := lock.Release(); err != nil {
			t.Fatal(err)
		}
	}
	return resumed, err
}

func TestDataDirIsCreatedThenResumed(t *testing.T) {
	d := dataDir(filepath.Join(t.TempDir(), "data"))
	if resumed, err := prepare(t, d, false, 4); err != nil || resumed {
		t.Fatalf("first start: resumed %v, err %v", resumed, err)
	}
	if resumed, err := prepare(t, d, false, 4); err != nil || !resumed {
		t.Fatalf("second start: resumed %v, err %v", resumed, err)
	}
	if _, err := prepare(t, d, false, 8); err == nil {
		t.Fatal("a start with another partition count must be refused")
	}
	if resumed, err := prepare(t, d, true, 8); err != nil || resumed {
		t.Fatalf("fresh start: resumed %v, err %v", resumed, err)
	}
}

func TestFreshNeverWipesAForeignDirectory(t *testing.T) {
	dir := t.TempDir()
	precious := filepath.Join(dir, "precious.txt")
	if err := os.WriteFile(precious, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, fresh := range []bool{true, false} {
		if _, err := prepare(t, dataDir(dir), fresh, 4); !errors.Is(err, errNotDevData) {
			t.Errorf("fresh=%v: want errNotDevData, have %v", fresh, err)
		}
	}
	if _, err := os.Stat(precious); err != nil {
		t.Fatalf("the foreign file is gone: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, dirlock.FileName)); err == nil {
		t.Error("a lock file was written into a foreign directory")
	}
}

// TestFreshWhileHeldWipesNothing: --fresh on a directory a running stack holds is refused before anything is
// removed, and names the holder; once released, --fresh wipes everything but the lock file.
func TestFreshWhileHeldWipesNothing(t *testing.T) {
	d := dataDir(filepath.Join(t.TempDir(), "data"))
	lock, _, err := prepareDataDir(d, false, 4)
	if err != nil {
		t.Fatal(err)
	}
	live := filepath.Join(d.natsStore(), "live")
	if err := os.MkdirAll(live, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, fresh := range []bool{true, false} {
		_, _, err := prepareDataDir(d, fresh, 4)
		if !errors.Is(err, dirlock.ErrHeld) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
			t.Errorf("fresh=%v while held: want a refusal naming pid %d, have %v", fresh, os.Getpid(), err)
		}
		if fresh && (err == nil || !strings.Contains(err.Error(), "--fresh refused")) {
			t.Errorf("the refusal does not say --fresh was refused: %v", err)
		}
	}
	if _, err := os.Stat(live); err != nil {
		t.Fatalf("the live store was touched: %v", err)
	}
	if err := lock.Release(); err != nil {
		t.Fatal(err)
	}
	if resumed, err := prepare(t, d, true, 4); err != nil || resumed {
		t.Fatalf("fresh after release: resumed %v, err %v", resumed, err)
	}
	entries, _ := os.ReadDir(string(d))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != ".lock devstack.json emulator" {
		t.Errorf("after --fresh the directory holds %v", names)
	}
}
