package connectemu

import (
	"net/http"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// uploadFileReconciliation serves POST /usage/files/{id}/reconciliation (field recon_file) on an accepted
// file; it answers the file.
func (e *Emulator) uploadFileReconciliation(w http.ResponseWriter, r *http.Request, _ caller) error {
	data, err := readMultipartFile(r, usageapi.FieldReconFile)
	if err != nil {
		return err
	}
	id, base := r.PathValue("id"), baseURL(r)
	v, err := e.change(func() (any, error) {
		f, err := e.fileForLocked(id, opReconcile)
		if err != nil {
			return nil, err
		}
		rec := e.createReconLocked(f.ID, data, "")
		f.Recon = rec.Upload
		return e.fileDetail(f, base), nil
	})
	return answer(w, http.StatusOK, v, err)
}

// createRecon serves POST /usage/reconciliations (recon_file, upload_note): 201 with the reconciliation,
// whose file is found from the records it names while processing.
func (e *Emulator) createRecon(w http.ResponseWriter, r *http.Request, _ caller) error {
	data, err := readMultipartFile(r, usageapi.FieldReconFile)
	if err != nil {
		return err
	}
	note := r.FormValue(usageapi.FieldUploadNote)
	v, err := e.change(func() (any, error) {
		return e.renderRecon(e.createReconLocked("", data, note)), nil
	})
	return answer(w, http.StatusCreated, v, err)
}

func (e *Emulator) listRecons(w http.ResponseWriter, r *http.Request, _ caller) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	e.mu.Lock()
	views := make([]reconView, 0, len(e.st.recons))
	for _, rc := range e.st.recons {
		views = append(views, reconView{r: rc, f: e.st.fileByID[rc.FileID], c: e.st.chunkByID[rc.ChunkID]})
	}
	pg, err := reconResource.List(q, views)
	items := make([]usageapi.Reconciliation, len(pg.Items))
	for i, v := range pg.Items {
		items[i] = e.renderRecon(v.r)
	}
	e.mu.Unlock()
	if err != nil {
		return rqlError(err)
	}
	writeList(w, pg.ContentRange, items)
	return nil
}

func (e *Emulator) getRecon(w http.ResponseWriter, r *http.Request, _ caller) error {
	v, err := e.read(func() (any, error) {
		rc := e.st.reconByID[r.PathValue("id")]
		if rc == nil {
			return nil, notFound("Reconciliation", r.PathValue("id"))
		}
		return e.renderRecon(rc), nil
	})
	return answer(w, http.StatusOK, v, err)
}

// reconFile serves the uploaded or the processed workbook of a reconciliation.
func (e *Emulator) reconFile(processed bool) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, _ caller) error {
		e.mu.Lock()
		rc := e.st.reconByID[r.PathValue("id")]
		var b []byte
		if rc != nil {
			key := rc.Upload
			if processed {
				key = rc.Processed
			}
			b = e.st.blobs[key]
		}
		e.mu.Unlock()
		switch {
		case rc == nil:
			return notFound("Reconciliation", r.PathValue("id"))
		case b == nil:
			return notFound("Processed file of reconciliation", rc.ID)
		}
		writeWorkbook(w, b)
		return nil
	}
}
