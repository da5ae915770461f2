package devstack

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDataDirIsCreatedThenResumed(t *testing.T) {
	d := dataDir(filepath.Join(t.TempDir(), "data"))
	if resumed, err := prepareDataDir(d, false, 4); err != nil || resumed {
		t.Fatalf("first start: resumed %v, err %v", resumed, err)
	}
	if resumed, err := prepareDataDir(d, false, 4); err != nil || !resumed {
		t.Fatalf("second start: resumed %v, err %v", resumed, err)
	}
	if _, err := prepareDataDir(d, false, 8); err == nil {
		t.Fatal("a start with another partition count must be refused")
	}
	if resumed, err := prepareDataDir(d, true, 8); err != nil || resumed {
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
		if _, err := prepareDataDir(dataDir(dir), fresh, 4); !errors.Is(err, errNotDevData) {
			t.Errorf("fresh=%v: want errNotDevData, have %v", fresh, err)
		}
	}
	if _, err := os.Stat(precious); err != nil {
		t.Fatalf("the foreign file is gone: %v", err)
	}
}
