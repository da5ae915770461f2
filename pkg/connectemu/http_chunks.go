package connectemu

import (
	"net/http"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

func (e *Emulator) listChunks(w http.ResponseWriter, r *http.Request, _ caller) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	e.mu.Lock()
	views := make([]chunkView, 0, len(e.st.chunks))
	for _, c := range e.st.chunks {
		views = append(views, chunkView{c: c, f: e.st.fileByID[c.FileID]})
	}
	pg, err := chunkResource.List(q, views)
	items := make([]usageapi.Chunk, len(pg.Items))
	for i, v := range pg.Items {
		items[i] = e.renderChunk(v.c, v.f)
	}
	e.mu.Unlock()
	if err != nil {
		return rqlError(err)
	}
	writeList(w, pg.ContentRange, items)
	return nil
}

func (e *Emulator) getChunk(w http.ResponseWriter, r *http.Request, _ caller) error {
	v, err := e.read(func() (any, error) {
		c, f, err := e.chunkForLocked(r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		return e.renderChunk(c, f), nil
	})
	return answer(w, http.StatusOK, v, err)
}

func (e *Emulator) updateChunk(w http.ResponseWriter, r *http.Request, _ caller) error {
	var req usageapi.UpdateChunkRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.ExternalID == "" {
		return invalid("external_id: This field is required.")
	}
	v, err := e.change(func() (any, error) {
		c, f, err := e.chunkForLocked(r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		c.ExternalID = req.ExternalID
		return e.renderChunk(c, f), nil
	})
	return answer(w, http.StatusOK, v, err)
}

func (e *Emulator) closeChunkHTTP(w http.ResponseWriter, r *http.Request, c caller) error {
	var req usageapi.CloseChunkRequest
	if err := decodeActionBody(r, &req); err != nil {
		return err
	}
	v, err := e.change(func() (any, error) {
		ch, err := e.closeChunkLocked(r.PathValue("id"), req, c.user)
		if err != nil {
			return nil, err
		}
		return e.renderChunk(ch, e.st.fileByID[ch.FileID]), nil
	})
	return answer(w, http.StatusOK, v, err)
}

func (e *Emulator) regenerateChunk(w http.ResponseWriter, r *http.Request, _ caller) error {
	v, err := e.change(func() (any, error) {
		ch, err := e.regenerateChunkLocked(r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		return e.renderChunk(ch, e.st.fileByID[ch.FileID]), nil
	})
	return answer(w, http.StatusOK, v, err)
}

// downloadChunk serves the records of a ready or closed chunk as an xlsx.
func (e *Emulator) downloadChunk(w http.ResponseWriter, r *http.Request, _ caller) error {
	e.mu.Lock()
	c, _, err := e.chunkForLocked(r.PathValue("id"))
	var b []byte
	switch {
	case err != nil:
	case c.Status != usageapi.ChunkStatusReady && c.Status != usageapi.ChunkStatusClosed:
		err = illegal("Usage file chunk", c.ID, c.Status, "download")
	default:
		b, err = e.chunkWorkbookLocked(c)
	}
	e.mu.Unlock()
	if err != nil {
		return err
	}
	writeWorkbook(w, b)
	return nil
}

// read runs op under the lock, for answers that change nothing.
func (e *Emulator) read(op func() (any, error)) (any, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return op()
}

// answer writes v with status, or returns err for the caller to write.
func answer(w http.ResponseWriter, status int, v any, err error) error {
	if err != nil {
		return err
	}
	writeJSON(w, status, v)
	return nil
}
