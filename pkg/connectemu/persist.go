package connectemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// stateVersion is the version of the state file format.
const stateVersion = 1

// stateFile is the persisted form of a store. Workbooks are kept beside it, one file per blob.
type stateFile struct {
	Version int            `json:"version"`
	Catalog *Catalog       `json:"catalog"`
	Secret  []byte         `json:"secret"`
	Files   []*fileState   `json:"files"`
	Records []*recordState `json:"records"`
	Chunks  []*chunkState  `json:"chunks"`
	Recons  []*reconState  `json:"reconciliations"`
	Rules   []*ruleState   `json:"rules"`
}

// blobDir is where the workbooks of the state file at path live.
func blobDir(path string) string { return path + ".blobs" }

// persist makes the current state durable at Options.StatePath, if set: it returns once a write that
// started after the call has ended (the change the caller made is in it), and that write's error. Writes
// never overlap; callers that arrive while one runs share the next one (group commit), so a burst of
// changes costs one or two writes of the whole state, not one each. Called after every change, before the
// answer is written.
func (e *Emulator) persist() error {
	if e.opts.StatePath == "" {
		return nil
	}
	w := &e.saves
	w.mu.Lock()
	defer w.mu.Unlock()
	target := w.started + 1 // a write running now may have read the state before the caller's change
	for w.done < target {
		if w.running {
			w.cond.Wait()
			continue
		}
		w.running = true
		w.started++
		n := w.started
		w.mu.Unlock()
		err := e.writeState()
		w.mu.Lock()
		w.running, w.done, w.err = false, n, err
		if err == nil {
			w.saved = n
		}
		w.cond.Broadcast()
	}
	if w.saved >= target {
		return nil
	}
	return w.err
}

// stateWrites orders the writes of the state file (Emulator.persist). Writes are numbered from 1.
type stateWrites struct {
	mu      sync.Mutex
	cond    *sync.Cond // on mu: a write ended
	running bool
	started uint64 // writes started
	done    uint64 // the last write ended
	saved   uint64 // the last write that succeeded
	err     error  // of the last write
}

// writeState writes new workbooks, then the state file by write-rename, so a crash leaves the previous or
// the new state, never a torn one.
func (e *Emulator) writeState() error {
	e.mu.Lock()
	b, err := json.Marshal(e.st.toFile())
	blobs := make(map[string][]byte, len(e.st.blobs))
	for k, v := range e.st.blobs {
		blobs[k] = v
	}
	e.mu.Unlock()
	if err != nil {
		return fmt.Errorf("connectemu: persist: %w", err)
	}
	if err := writeBlobs(blobDir(e.opts.StatePath), blobs); err != nil {
		return err
	}
	if err := writeAtomic(e.opts.StatePath, b); err != nil {
		return fmt.Errorf("connectemu: persist: %w", err)
	}
	return nil
}

func (s *store) toFile() stateFile {
	return stateFile{
		Version: stateVersion, Catalog: s.catalog, Secret: s.secret,
		Files: s.files, Records: s.records, Chunks: s.chunks, Recons: s.recons, Rules: s.rules,
	}
}

// writeBlobs writes the workbooks that are not on disk yet (blobs are content-addressed, so never change).
func writeBlobs(dir string, blobs map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("connectemu: persist blobs: %w", err)
	}
	for key, b := range blobs {
		path := filepath.Join(dir, key+".xlsx")
		if _, err := os.Stat(path); err == nil {
			continue
		}
		if err := writeAtomic(path, b); err != nil {
			return fmt.Errorf("connectemu: persist blob: %w", err)
		}
	}
	return nil
}

// writeAtomic writes b to path through a synced temporary file renamed over it.
func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(b)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// loadStore reads the state file at path; it returns nil, nil when there is none yet.
func loadStore(path string) (*store, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var sf stateFile
	if err := json.Unmarshal(b, &sf); err != nil {
		return nil, fmt.Errorf("decode state: %w", err)
	}
	if sf.Version != stateVersion {
		return nil, fmt.Errorf("state version %d, want %d", sf.Version, stateVersion)
	}
	s := newStore(sf.Catalog)
	s.secret = sf.Secret
	for _, f := range sf.Files {
		s.addFile(f)
	}
	for _, r := range sf.Records {
		s.addRecord(r)
	}
	for _, c := range sf.Chunks {
		s.addChunk(c)
	}
	for _, r := range sf.Recons {
		s.addRecon(r)
	}
	for _, r := range sf.Rules {
		s.addRule(r)
	}
	return s, s.loadBlobs(blobDir(path))
}

// loadBlobs reads every workbook the state refers to.
func (s *store) loadBlobs(dir string) error {
	var keys []string
	for _, f := range s.files {
		keys = append(keys, f.Upload, f.Processed, f.Recon)
	}
	for _, r := range s.recons {
		keys = append(keys, r.Upload, r.Processed)
	}
	for _, k := range keys {
		if k == "" || s.blobs[k] != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, k+".xlsx"))
		if err != nil {
			return fmt.Errorf("load workbook: %w", err)
		}
		s.blobs[k] = b
	}
	return nil
}
