package dirlock

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// FileName is the lock file inside a locked directory.
const FileName = ".lock"

// ErrHeld is matched (errors.Is) by the error of Acquire when another open lock holds the directory.
var ErrHeld = errors.New("dirlock: directory in use")

// Holder is who holds a lock, as its lock file says.
type Holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Started time.Time `json:"started"`
}

// HeldError is the error of Acquire when the directory is locked: it names the holder (when its lock file
// could be read) and the lock file.
type HeldError struct {
	Dir, File string
	Holder    *Holder // nil when the lock file did not say (being written, or unreadable)
}

func (e *HeldError) Error() string {
	who := "another process"
	if h := e.Holder; h != nil {
		who = fmt.Sprintf("pid %d on host %s (since %s)", h.PID, h.Host, h.Started.Format(time.RFC3339))
	}
	return fmt.Sprintf("%s is in use by %s: stop it first (lock file %s)", e.Dir, who, e.File)
}

// Is makes errors.Is(err, ErrHeld) true.
func (e *HeldError) Is(target error) bool { return target == ErrHeld }

// Lock is a held directory lock.
type Lock struct {
	mu   sync.Mutex
	f    *os.File // nil once released
	path string
}

// Acquire creates dir if needed and locks it, or fails at once with a *HeldError when another open lock
// holds it. The caller holds the lock until Release or its exit.
func Acquire(dir string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("dirlock: %w", err)
	}
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("dirlock: %w", err)
	}
	if err := tryLock(f); err != nil {
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, &HeldError{Dir: dir, File: path, Holder: readHolder(path)}
		}
		return nil, fmt.Errorf("dirlock: lock %s: %w", path, err)
	}
	if err := writeHolder(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("dirlock: %s: %w", path, err)
	}
	return &Lock{f: f, path: path}, nil
}

// writeHolder replaces the lock file's content with this process's identity.
func writeHolder(f *os.File) error {
	host, _ := os.Hostname()
	b, err := json.Marshal(Holder{PID: os.Getpid(), Host: host, Started: time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return err
	}
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err = f.WriteAt(append(b, '\n'), 0)
	return err
}

// readHolder reads who holds the lock; nil when the file does not say.
func readHolder(path string) *Holder {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var h Holder
	if json.Unmarshal(b, &h) != nil || h.PID == 0 {
		return nil
	}
	return &h
}

// Path is the lock file.
func (l *Lock) Path() string { return l.path }

// Release empties the lock file and unlocks it. It is idempotent.
func (l *Lock) Release() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := errors.Join(l.f.Truncate(0), l.f.Close()) // closing the file releases the flock
	l.f = nil
	if err != nil {
		return fmt.Errorf("dirlock: release %s: %w", l.path, err)
	}
	return nil
}
