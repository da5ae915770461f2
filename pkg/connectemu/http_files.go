package connectemu

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/usagepipe/usagepipe/pkg/connectemu/rql"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// maxBody bounds JSON bodies; maxUpload bounds uploaded workbooks.
const (
	maxBody   = 1 << 20
	maxUpload = 64 << 20
)

func (e *Emulator) listFiles(w http.ResponseWriter, r *http.Request, _ caller) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	e.mu.Lock()
	pg, err := fileResource.List(q, e.listedFilesLocked())
	items := make([]usageapi.File, len(pg.Items))
	for i, f := range pg.Items {
		items[i] = fileList(f)
	}
	e.mu.Unlock()
	if err != nil {
		return rqlError(err)
	}
	writeList(w, pg.ContentRange, items)
	return nil
}

func (e *Emulator) createFile(w http.ResponseWriter, r *http.Request, c caller) error {
	var req usageapi.CreateFileRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	base := baseURL(r)
	v, err := e.change(func() (any, error) {
		f, err := e.createFileLocked(req, c.user)
		if err != nil {
			return nil, err
		}
		e.hideLocked(r, f.ID)
		return e.fileCreated(f, base), nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (e *Emulator) getFile(w http.ResponseWriter, r *http.Request, _ caller) error {
	e.mu.Lock()
	f := e.st.fileByID[r.PathValue("id")]
	var d usageapi.FileDetail
	if f != nil {
		d = e.fileDetail(f, baseURL(r))
	}
	e.mu.Unlock()
	if f == nil {
		return notFound("Usage file", r.PathValue("id"))
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (e *Emulator) updateFile(w http.ResponseWriter, r *http.Request, _ caller) error {
	var req usageapi.UpdateFileRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	v, err := e.change(func() (any, error) {
		f, err := e.updateFileLocked(r.PathValue("id"), req)
		if err != nil {
			return nil, err
		}
		return usageapi.FileUpdate{Description: f.Description, Note: f.Note, ExternalID: f.ExternalID}, nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// fileAction serves the POST/PUT actions that take at most a note: submit, accept, reject, close, delete,
// approve-all, reprocess.
func (e *Emulator) fileAction(op fileOp) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, c caller) error {
		var body struct {
			AcceptanceNote string `json:"acceptance_note"`
			RejectionNote  string `json:"rejection_note"`
		}
		if err := decodeActionBody(r, &body); err != nil {
			return err
		}
		if err := checkLengths(map[string]fieldLen{
			"acceptance_note": {body.AcceptanceNote, 200}, "rejection_note": {body.RejectionNote, 200},
		}); err != nil {
			return err
		}
		id, base := r.PathValue("id"), baseURL(r)
		v, err := e.change(func() (any, error) {
			f, err := e.applyLocked(op, id, body.AcceptanceNote+body.RejectionNote, c.user)
			if err != nil {
				return nil, err
			}
			return e.fileDetail(f, base), nil
		})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	}
}

// applyLocked runs a file action by name.
func (e *Emulator) applyLocked(op fileOp, id, note string, by *usageapi.User) (*fileState, error) {
	switch op {
	case opSubmit:
		return e.submitLocked(id, by)
	case opAccept:
		return e.acceptLocked(id, note, by)
	case opReject:
		return e.rejectLocked(id, note, by)
	case opClose:
		return e.closeFileLocked(id, by)
	case opDelete:
		return e.deleteFileLocked(id, by)
	case opApproveAll:
		return e.approveAllLocked(id)
	}
	return e.reprocessLocked(id, by)
}

func (e *Emulator) listCategories(w http.ResponseWriter, r *http.Request, _ caller) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	e.mu.Lock()
	f := e.st.fileByID[r.PathValue("id")]
	var cats []usageapi.Category
	if f != nil {
		cats = append(cats, f.Categories...)
	}
	e.mu.Unlock()
	if f == nil {
		return notFound("Usage file", r.PathValue("id"))
	}
	pg, err := categoryResource.List(q, cats)
	if err != nil {
		return rqlError(err)
	}
	writeList(w, pg.ContentRange, pg.Items)
	return nil
}

func (e *Emulator) getTemplate(w http.ResponseWriter, r *http.Request, _ caller) error {
	id := r.PathValue("id")
	e.mu.Lock()
	_, ok := e.st.catalog.product(id)
	link := e.signedURL(baseURL(r), id, "", kindTemplate)
	e.mu.Unlock()
	if !ok {
		return notFound("Product", id)
	}
	writeJSON(w, http.StatusOK, usageapi.TemplateLink{TemplateLink: link})
	return nil
}

// change runs op under the lock; when it succeeds, wakes the waiters and persists the state before the
// caller answers, so an answered change survives a restart.
func (e *Emulator) change(op func() (any, error)) (any, error) {
	e.mu.Lock()
	v, err := op()
	if err == nil {
		e.notifyLocked()
	}
	e.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if err := e.persist(); err != nil {
		return nil, err
	}
	return v, nil
}

// decodeJSON reads a JSON body into v: 400 VAL_001 when it is not valid JSON for v.
func decodeJSON(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return invalid("Cannot read the request body: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return invalid("Malformed JSON body: %v", err)
	}
	return nil
}

// decodeActionBody reads the optional body of an action. An empty body is fine; a JSON null fails with 500
// and Connect's own error, as the real service does (clients must send {}).
func decodeActionBody(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return invalid("Cannot read the request body: %v", err)
	}
	switch b = bytes.TrimSpace(b); {
	case len(b) == 0:
		return nil
	case string(b) == "null":
		return &nullBodyError{}
	}
	if err := json.Unmarshal(b, v); err != nil {
		return invalid("Malformed JSON body: %v", err)
	}
	return nil
}

// writeList answers a list page with its Content-Range.
func writeList(w http.ResponseWriter, contentRange string, items any) {
	w.Header().Set("Content-Range", contentRange)
	writeJSON(w, http.StatusOK, items)
}

// parseQuery parses the RQL query of a list request: 400 RQL_001 when it cannot.
func parseQuery(r *http.Request) (*rql.Query, error) {
	q, err := rql.Parse(r.URL.RawQuery)
	if err != nil {
		return nil, rqlError(err)
	}
	return q, nil
}

func rqlError(err error) error {
	return newAPIError(http.StatusBadRequest, CodeRQL, "%v", err)
}
