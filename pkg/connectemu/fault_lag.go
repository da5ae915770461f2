package connectemu

import (
	"context"
	"net/http"
	"slices"
	"time"
)

// A list lag hides a just-created usage file from GET /usage/files (FaultListLag), as a list served from
// an index lags behind the database: the file exists (GET by id finds it) but lists miss it for a number of
// list requests or for a while. Lags live in memory only; a restart ends them.

// lagging is how long a file stays out of lists: lists more list requests, or until a time.
type lagging struct {
	lists int
	until time.Time
}

type listLagKey struct{}

// withListLag passes the list lag a create request met to its handler.
func withListLag(r *http.Request, f Fault) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), listLagKey{}, f))
}

// hideLocked hides file id from lists as the list lag of request r says, if it met one.
func (e *Emulator) hideLocked(r *http.Request, id string) {
	f, ok := r.Context().Value(listLagKey{}).(Fault)
	if !ok {
		return
	}
	l := lagging{lists: f.Lists}
	if f.Delay > 0 {
		l = lagging{until: time.Now().Add(f.Delay)}
	}
	e.lagging[id] = l
}

// listedFilesLocked returns the files a list request sees (the lagging ones left out), and counts the
// request against every lag.
func (e *Emulator) listedFilesLocked() []*fileState {
	if len(e.lagging) == 0 {
		return e.st.files
	}
	now := time.Now()
	files := slices.DeleteFunc(slices.Clone(e.st.files), func(f *fileState) bool {
		l, ok := e.lagging[f.ID]
		return ok && (l.lists > 0 || now.Before(l.until))
	})
	for id, l := range e.lagging {
		if l.lists--; l.lists <= 0 && !now.Before(l.until) {
			delete(e.lagging, id)
		} else {
			e.lagging[id] = l
		}
	}
	return files
}
