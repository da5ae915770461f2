package connectemu

import (
	"net/http"

	"github.com/usagepipe/usagepipe/pkg/connectemu/rql"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

func (e *Emulator) listRecords(w http.ResponseWriter, r *http.Request, _ caller) error {
	q, err := parseQuery(r)
	if err != nil {
		return err
	}
	e.mu.Lock()
	pg, err := recordResource.List(q, e.recordCandidatesLocked(q))
	items := make([]usageapi.Record, len(pg.Items))
	for i, rec := range pg.Items {
		items[i] = e.record(rec)
	}
	e.mu.Unlock()
	if err != nil {
		return rqlError(err)
	}
	writeList(w, pg.ContentRange, items)
	return nil
}

// recordCandidatesLocked is the records a list query can match: those of one file when the query requires
// that file exactly (from the file's index, in creation order: the same answer without scanning every
// record, which costs seconds per page once a soak has stored hundreds of thousands), else all.
func (e *Emulator) recordCandidatesLocked(q *rql.Query) []*recordState {
	for _, field := range []string{"usage_file", "usagefile.id"} {
		if id, ok := q.Exact(field); ok {
			return e.st.recordsOf(id)
		}
	}
	return e.st.records
}

func (e *Emulator) getRecord(w http.ResponseWriter, r *http.Request, _ caller) error {
	e.mu.Lock()
	rec, _, err := e.recordForLocked(r.PathValue("id"))
	var out usageapi.Record
	if err == nil {
		out = e.record(rec)
	}
	e.mu.Unlock()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (e *Emulator) updateRecord(w http.ResponseWriter, r *http.Request, c caller) error {
	var req usageapi.UpdateRecordRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	v, err := e.change(func() (any, error) {
		rec, err := e.setRecordStatusLocked(r.PathValue("id"), req.Status, c.user)
		if err != nil {
			return nil, err
		}
		return e.record(rec), nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (e *Emulator) closeRecordHTTP(w http.ResponseWriter, r *http.Request, c caller) error {
	var req usageapi.CloseRecordRequest
	if err := decodeActionBody(r, &req); err != nil {
		return err
	}
	v, err := e.change(func() (any, error) {
		rec, err := e.closeRecordLocked(r.PathValue("id"), req, c.user)
		if err != nil {
			return nil, err
		}
		return e.record(rec), nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// closeRecords serves the bulk close: 206 with one result per item, whatever happened to each.
func (e *Emulator) closeRecords(w http.ResponseWriter, r *http.Request, c caller) error {
	var reqs []usageapi.CloseRecordRequest
	if err := decodeJSON(r, &reqs); err != nil {
		return err
	}
	v, err := e.change(func() (any, error) { return e.closeRecordsLocked(reqs, c.user), nil })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusPartialContent, v)
	return nil
}
