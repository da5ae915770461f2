package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sync"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// Media types of POST /v1/events.
const (
	MediaCloudEvent = "application/cloudevents+json"       // one event
	MediaBatch      = "application/cloudevents-batch+json" // a JSON array of events
	MediaJSON       = "application/json"                   // one event (object) or an array
)

// shape is what a content type allows: a single event, an array, or either.
type shape int

const (
	shapeSingle shape = 1 << iota
	shapeArray
)

// requestShape maps the Content-Type header to the shapes it allows.
func requestShape(contentType string) (shape, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, fmt.Errorf("content type %q: want %s, %s or %s", contentType, MediaCloudEvent, MediaBatch, MediaJSON)
	}
	switch mt {
	case MediaCloudEvent:
		return shapeSingle, nil
	case MediaBatch:
		return shapeArray, nil
	case MediaJSON:
		return shapeSingle | shapeArray, nil
	}
	return 0, fmt.Errorf("content type %q: want %s, %s or %s", mt, MediaCloudEvent, MediaBatch, MediaJSON)
}

// bodyError is a request that cannot be read as events, with its status code.
type bodyError struct {
	code int
	msg  string
}

func (e *bodyError) Error() string { return e.msg }

// buffers recycles request bodies; decoded events copy what they keep, so a buffer is free after decoding.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readBody reads r's body into buf, up to limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer, limit int64) error {
	if r.ContentLength > limit {
		return &bodyError{http.StatusRequestEntityTooLarge, fmt.Sprintf("body of %d bytes exceeds the limit of %d", r.ContentLength, limit)}
	}
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return &bodyError{http.StatusRequestEntityTooLarge, fmt.Sprintf("body exceeds the limit of %d bytes", limit)}
	case err != nil && !errors.Is(err, io.EOF):
		return &bodyError{http.StatusBadRequest, "reading body: " + err.Error()}
	}
	return nil
}

// decodeEvents decodes the events of body allowed by sh (one for an object, the elements of an array) and
// passes each, in request order, to add. The events' strings are substrings of one copy of body, so they
// need no allocation of their own. On error the calls already made are void.
func decodeEvents(body []byte, sh shape, maxBatch int, add func(i int, e events.Event, rej *events.Rejection)) error {
	first := bytes.TrimLeft(body, " \t\r\n")
	switch {
	case len(first) == 0:
		return &bodyError{http.StatusBadRequest, "empty body"}
	case first[0] == '{' && sh&shapeSingle != 0:
		if !json.Valid(first) {
			return &bodyError{http.StatusBadRequest, "body is not valid JSON"}
		}
		e, rej := events.DecodeEventString(string(first))
		add(0, e, rej)
		return nil
	case first[0] == '[' && sh&shapeArray != 0:
		err := events.DecodeBatchString(string(first), maxBatch, add)
		if errors.Is(err, events.ErrTooManyEvents) {
			return &bodyError{http.StatusRequestEntityTooLarge, fmt.Sprintf("more than %d events in one request", maxBatch)}
		}
		if err != nil {
			return &bodyError{http.StatusBadRequest, err.Error()}
		}
		return nil
	case !json.Valid(first):
		return &bodyError{http.StatusBadRequest, "body is not valid JSON"}
	case sh == shapeSingle:
		return &bodyError{http.StatusBadRequest, MediaCloudEvent + " carries one event (a JSON object); send arrays as " + MediaBatch}
	case sh == shapeArray:
		return &bodyError{http.StatusBadRequest, MediaBatch + " carries a JSON array of events"}
	}
	return &bodyError{http.StatusBadRequest, "body must be a JSON object (one event) or array (a batch)"}
}
