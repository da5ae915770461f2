package connectemu

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

//go:embed sample_catalog.yaml
var sampleCatalog []byte

// SampleCatalog returns the built-in catalog (sample_catalog.yaml): vendor VA-000-001, marketplace MP-00001
// (USD, hub HB-0000-0001), contract CRD-00000-00000-00001, QT product PRD-000-000-001 with items CPU_HOURS
// (decimal(4)), STORAGE_GB (decimal(2)) and API_CALLS (integer), TR product PRD-000-000-002, and assets
// AS-0000-0000-000N with parameter subscription_id.
func SampleCatalog() *Catalog {
	c, err := ParseCatalog(sampleCatalog)
	if err != nil {
		panic(fmt.Sprintf("connectemu: sample catalog: %v", err))
	}
	return c
}

// Seed merges c into the catalog (an entry with an existing id replaces it). Files already created keep
// the names they were created with.
func (e *Emulator) Seed(c *Catalog) error {
	e.mu.Lock()
	next := &Catalog{}
	next.merge(e.st.catalog)
	next.merge(c)
	err := next.check()
	if err == nil {
		e.st.setCatalog(next)
		e.notifyLocked()
	}
	e.mu.Unlock()
	if err != nil {
		return err
	}
	return e.persist()
}

// AddAsset adds (or replaces) one asset of the catalog.
func (e *Emulator) AddAsset(a CatalogAsset) error {
	return e.Seed(&Catalog{Assets: []CatalogAsset{a}})
}

// Catalog returns a copy of the current catalog.
func (e *Emulator) Catalog() *Catalog {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := &Catalog{}
	c.merge(e.st.catalog)
	return c
}

// Files returns a snapshot of every usage file, in creation order, as GET by id shows them (download links
// relative to the emulator's root).
func (e *Emulator) Files() []usageapi.FileDetail {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]usageapi.FileDetail, len(e.st.files))
	for i, f := range e.st.files {
		out[i] = e.fileDetail(f, "")
	}
	return out
}

// File returns a snapshot of one usage file.
func (e *Emulator) File(id string) (usageapi.FileDetail, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f := e.st.fileByID[id]
	if f == nil {
		return usageapi.FileDetail{}, false
	}
	return e.fileDetail(f, ""), true
}

// Records returns a snapshot of the records of a usage file.
func (e *Emulator) Records(fileID string) []usageapi.Record {
	e.mu.Lock()
	defer e.mu.Unlock()
	recs := e.st.recordsOf(fileID)
	out := make([]usageapi.Record, len(recs))
	for i, r := range recs {
		out[i] = e.record(r)
	}
	return out
}

// Accept accepts a pending file as the provider would (POST …/accept).
func (e *Emulator) Accept(id, note string) error {
	return e.act(func() error { _, err := e.acceptLocked(id, note, nil); return err })
}

// Reject rejects a pending file as the provider would (POST …/reject).
func (e *Emulator) Reject(id, note string) error {
	return e.act(func() error { _, err := e.rejectLocked(id, note, nil); return err })
}

// CloseFile closes an accepted file and its records as the provider would: it bills the approved records
// that have no billing data yet (external_billing_note "billed by the emulator"), then closes the file
// (POST …/close, which refuses a file with unbilled records).
func (e *Emulator) CloseFile(id string) error {
	return e.act(func() error {
		e.billLocked(id, noteEmulatorBilled)
		_, err := e.closeFileLocked(id, nil)
		return err
	})
}

// WaitStatus blocks until file id has one of the statuses, or ctx ends.
func (e *Emulator) WaitStatus(ctx context.Context, id string, statuses ...usageapi.FileStatus) error {
	return e.wait(ctx, func() bool {
		f := e.st.fileByID[id]
		if f == nil {
			return false
		}
		for _, s := range statuses {
			if f.Status == s {
				return true
			}
		}
		return false
	})
}

// act runs a Go-API change like an HTTP one: under the lock, then notified and persisted.
func (e *Emulator) act(op func() error) error {
	_, err := e.change(func() (any, error) { return nil, op() })
	if err != nil {
		return fmt.Errorf("connectemu: %w", err)
	}
	return nil
}
