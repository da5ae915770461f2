package devstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/usagepipe/usagepipe/internal/dirlock"
)

// dataDir is the layout of a dev stack's data directory. The marker file says a dev stack created it (so
// --fresh never wipes anything else) and fixes the partition count of the stored streams; the lock file
// (internal/dirlock) says a stack runs on it.
type dataDir string

func (d dataDir) natsStore() string     { return filepath.Join(string(d), "nats") }
func (d dataDir) emulatorState() string { return filepath.Join(string(d), "emulator", "state.json") }
func (d dataDir) logFile() string       { return filepath.Join(string(d), "usagepipe.log") }
func (d dataDir) marker() string        { return filepath.Join(string(d), "devstack.json") }

// dataMarker is the content of the marker file.
type dataMarker struct {
	Partitions int       `json:"partitions"`
	Created    time.Time `json:"created"`
}

// errNotDevData: --fresh was asked for a directory a dev stack did not create.
var errNotDevData = errors.New("not a usagepipe dev data directory (no devstack.json); remove it yourself or choose another --data")

// prepareDataDir locks the directory for the life of the stack, wipes it when fresh, creates it, and checks
// or writes its marker. It reports whether the directory already held a stack's state. The lock is taken
// before anything is wiped or written, so a second stack (or a --fresh) on a directory a running stack holds
// is refused, naming the holder; a directory a dev stack did not create is refused before anything is
// written into it.
func prepareDataDir(d dataDir, fresh bool, partitions int) (lock *dirlock.Lock, resumed bool, err error) {
	if err := checkOurs(d); err != nil {
		return nil, false, err
	}
	if lock, err = dirlock.Acquire(string(d)); err != nil {
		if fresh {
			return nil, false, fmt.Errorf("devstack: --fresh refused: %w", err)
		}
		return nil, false, fmt.Errorf("devstack: %w", err)
	}
	if resumed, err = prepareLocked(d, fresh, partitions); err != nil {
		return nil, false, errors.Join(err, lock.Release())
	}
	return lock, resumed, nil
}

// prepareLocked is prepareDataDir once the directory is locked.
func prepareLocked(d dataDir, fresh bool, partitions int) (resumed bool, err error) {
	if fresh {
		if err := wipe(d); err != nil {
			return false, err
		}
	}
	m, err := readMarker(d)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		err = create(d, partitions)
	case err != nil:
	case m.Partitions != partitions:
		err = fmt.Errorf("devstack: %s holds %d partitions, not %d: use --partitions %d or --fresh",
			d, m.Partitions, partitions, m.Partitions)
	default:
		resumed = true
	}
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(filepath.Dir(d.emulatorState()), 0o755); err != nil {
		return false, fmt.Errorf("devstack: data dir: %w", err)
	}
	return resumed, nil
}

// checkOurs refuses a directory that holds something but no marker: a dev stack did not create it.
func checkOurs(d dataDir) error {
	empty, err := isEmpty(d)
	if err != nil || empty {
		return err
	}
	if _, err := os.Stat(d.marker()); err != nil {
		return fmt.Errorf("devstack: %s: %w", d, errNotDevData)
	}
	return nil
}

// create makes a new data directory: d must be missing or empty (but for its lock file).
func create(d dataDir, partitions int) error {
	if empty, err := isEmpty(d); err != nil || !empty {
		return fmt.Errorf("devstack: %s: %w", d, errors.Join(err, errNotDevData))
	}
	if err := os.MkdirAll(string(d), 0o755); err != nil {
		return fmt.Errorf("devstack: data dir: %w", err)
	}
	return writeMarker(d, dataMarker{Partitions: partitions, Created: time.Now().UTC()})
}

// isEmpty reports whether d is missing or holds nothing but its lock file.
func isEmpty(d dataDir) (bool, error) {
	entries, err := os.ReadDir(string(d))
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	for _, e := range entries {
		if e.Name() != dirlock.FileName {
			return false, nil
		}
	}
	return err == nil, err
}

// wipe empties d, which the caller has locked, if a dev stack created it; a missing or empty directory is
// fine. The lock file stays: removing it would let another process lock a new one while this one runs.
func wipe(d dataDir) error {
	if err := checkOurs(d); err != nil {
		return fmt.Errorf("devstack: fresh: %w", err)
	}
	entries, err := os.ReadDir(string(d))
	if err != nil {
		return fmt.Errorf("devstack: fresh: %w", err)
	}
	for _, e := range entries {
		if e.Name() == dirlock.FileName {
			continue
		}
		if err := os.RemoveAll(filepath.Join(string(d), e.Name())); err != nil {
			return fmt.Errorf("devstack: fresh: %w", err)
		}
	}
	return nil
}

func readMarker(d dataDir) (dataMarker, error) {
	var m dataMarker
	b, err := os.ReadFile(d.marker())
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("devstack: %s: %w", d.marker(), err)
	}
	return m, nil
}

func writeMarker(d dataDir, m dataMarker) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(d.marker(), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("devstack: data dir: %w", err)
	}
	return nil
}
