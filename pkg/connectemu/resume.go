package connectemu

import "github.com/usagepipe/usagepipe/pkg/usageapi"

// resumeLocked schedules again the background work a persisted state was in the middle of when the
// previous process stopped: processing, provider decisions, chunk generation, reconciliations.
func (e *Emulator) resumeLocked() {
	for _, f := range e.st.files {
		switch f.Status {
		case usageapi.FileStatusUploading, usageapi.FileStatusProcessing:
			f.Status = usageapi.FileStatusUploading
			e.scheduleProcessingLocked(f)
		case usageapi.FileStatusPending:
			e.decideLocked(f)
		}
	}
	for _, c := range e.st.chunks {
		if c.Status == usageapi.ChunkStatusDraft {
			e.scheduleChunkLocked(c)
		}
	}
	for _, r := range e.st.recons {
		if r.Status == usageapi.ReconciliationStatusUploaded || r.Status == usageapi.ReconciliationStatusProcessing {
			r.Status = usageapi.ReconciliationStatusUploaded
			id := r.ID
			e.scheduleLocked(e.opts.ProcessingDelay, func() { e.processRecon(id) })
		}
	}
}
