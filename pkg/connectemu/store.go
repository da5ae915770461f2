package connectemu

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
)

// store is the emulator's whole state: the catalog and every object, in creation order, with indexes.
// It is guarded by Emulator.mu. The catalog pointer is replaced (never mutated, always with setCatalog) on
// Seed, AddAsset and made-up assets, so a processing step may read it, and its index, without the lock.
type store struct {
	catalog *Catalog
	index   *catalogIndex // of catalog; nil until catalogIndex builds it
	secret  []byte        // signs download links

	files   []*fileState
	records []*recordState
	chunks  []*chunkState
	recons  []*reconState
	rules   []*ruleState
	blobs   map[string][]byte // workbooks by sha256

	fileByID      map[string]*fileState
	recordByID    map[string]*recordState
	recordsByFile map[string][]*recordState
	chunkByID     map[string]*chunkState
	reconByID     map[string]*reconState
	ruleByID      map[string]*ruleState
}

func newStore(c *Catalog) *store {
	cat := &Catalog{}
	cat.merge(c)
	return &store{
		catalog:       cat,
		secret:        randomSecret(32),
		blobs:         map[string][]byte{},
		fileByID:      map[string]*fileState{},
		recordByID:    map[string]*recordState{},
		recordsByFile: map[string][]*recordState{},
		chunkByID:     map[string]*chunkState{},
		reconByID:     map[string]*reconState{},
		ruleByID:      map[string]*ruleState{},
	}
}

// mergeCatalog replaces the catalog with a copy that has add merged in.
func (s *store) mergeCatalog(add *Catalog) {
	next := &Catalog{}
	next.merge(s.catalog)
	next.merge(add)
	s.setCatalog(next)
}

// setCatalog replaces the catalog (and drops the index of the previous one).
func (s *store) setCatalog(c *Catalog) {
	s.catalog, s.index = c, nil
}

// catalogIndex returns the index of the current catalog, built at the first call after a change.
func (s *store) catalogIndex() *catalogIndex {
	if s.index == nil {
		s.index = newCatalogIndex(s.catalog)
	}
	return s.index
}

// idTaken reports whether any object already has id.
func (s *store) idTaken(id string) bool {
	return s.fileByID[id] != nil || s.recordByID[id] != nil || s.chunkByID[id] != nil ||
		s.reconByID[id] != nil || s.ruleByID[id] != nil
}

func (s *store) addFile(f *fileState) {
	s.files = append(s.files, f)
	s.fileByID[f.ID] = f
}

// addRecord adds a record of a file already stored (taking the file's schema if it has none).
func (s *store) addRecord(r *recordState) {
	if f := s.fileByID[r.FileID]; f != nil && r.Schema == "" {
		r.Schema = f.Schema
	}
	s.records = append(s.records, r)
	s.recordByID[r.ID] = r
	s.recordsByFile[r.FileID] = append(s.recordsByFile[r.FileID], r)
}

func (s *store) addChunk(c *chunkState) {
	s.chunks = append(s.chunks, c)
	s.chunkByID[c.ID] = c
}

func (s *store) addRecon(r *reconState) {
	s.recons = append(s.recons, r)
	s.reconByID[r.ID] = r
}

func (s *store) addRule(r *ruleState) {
	s.rules = append(s.rules, r)
	s.ruleByID[r.ID] = r
}

// removeRecordsOf deletes the records of a file (a re-upload replaces them).
func (s *store) removeRecordsOf(fileID string) {
	if len(s.recordsByFile[fileID]) == 0 {
		return
	}
	delete(s.recordsByFile, fileID)
	s.records = slices.DeleteFunc(s.records, func(r *recordState) bool {
		if r.FileID == fileID {
			delete(s.recordByID, r.ID)
			return true
		}
		return false
	})
}

// recordsOf returns the records of a file, in creation order.
func (s *store) recordsOf(fileID string) []*recordState {
	return s.recordsByFile[fileID]
}

// chunksOf returns the chunks of a file.
func (s *store) chunksOf(fileID string) []*chunkState {
	var out []*chunkState
	for _, c := range s.chunks {
		if c.FileID == fileID {
			out = append(out, c)
		}
	}
	return out
}

// putBlob stores a workbook and returns its key.
func (s *store) putBlob(b []byte) string {
	sum := sha256.Sum256(b)
	key := hex.EncodeToString(sum[:])
	s.blobs[key] = b
	return key
}
