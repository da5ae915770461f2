package devstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// dataDir is the layout of a dev stack's data directory. The marker file says a dev stack created it (so
// --fresh never wipes anything else) and fixes the partition count of the stored streams.
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

// prepareDataDir wipes the directory when fresh, creates it, and checks or writes its marker. It reports
// whether the directory already held a stack's state.
func prepareDataDir(d dataDir, fresh bool, partitions int) (resumed bool, err error) {
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

// create makes a new data directory: d must be missing or empty.
func create(d dataDir, partitions int) error {
	if empty, err := isEmpty(d); err != nil || !empty {
		return fmt.Errorf("devstack: %s: %w", d, errors.Join(err, errNotDevData))
	}
	if err := os.MkdirAll(string(d), 0o755); err != nil {
		return fmt.Errorf("devstack: data dir: %w", err)
	}
	return writeMarker(d, dataMarker{Partitions: partitions, Created: time.Now().UTC()})
}

// isEmpty reports whether d is missing or holds nothing.
func isEmpty(d dataDir) (bool, error) {
	entries, err := os.ReadDir(string(d))
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	return err == nil && len(entries) == 0, err
}

// wipe removes d if a dev stack created it; a missing or empty directory is fine.
func wipe(d dataDir) error {
	if empty, err := isEmpty(d); err != nil || empty {
		return err
	}
	if _, err := os.Stat(d.marker()); err != nil {
		return fmt.Errorf("devstack: fresh: %s: %w", d, errNotDevData)
	}
	if err := os.RemoveAll(string(d)); err != nil {
		return fmt.Errorf("devstack: fresh: %w", err)
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
