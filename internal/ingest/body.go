package ingest

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

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

// encodingGzip is the one Content-Encoding accepted besides none (or identity).
const encodingGzip = "gzip"

// requestEncoding returns "" or encodingGzip, the Content-Encoding of h, or a 415 bodyError.
func requestEncoding(h http.Header) (string, error) {
	values := h.Values("Content-Encoding")
	if len(values) == 0 {
		return "", nil
	}
	enc := strings.ToLower(strings.TrimSpace(strings.Join(values, ",")))
	switch enc {
	case "", "identity":
		return "", nil
	case encodingGzip, "x-gzip":
		return encodingGzip, nil
	}
	return "", &bodyError{http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Encoding %q is not supported: send gzip or no encoding", clipHeader(enc))}
}

// clipHeader shortens a header value quoted in an answer.
func clipHeader(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// buffers recycles request bodies; decoded events copy what they keep, so a buffer is free after decoding.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// gzipReaders recycles decompressors (each holds tens of KiB of tables).
var gzipReaders sync.Pool

// bodyReading is how a body is read: at most limit bytes, both as sent and once decompressed, arriving at
// minRate bytes per second on average after grace (see pacedBody).
type bodyReading struct {
	limit    int64
	minRate  int64
	grace    time.Duration
	encoding string // "" or encodingGzip
}

// readBody reads r's body into buf as rd says. Its errors are bodyErrors: 413 beyond the limit, 408 when the
// body arrives too slowly, 400 when it cannot be read (or decompressed).
func readBody(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer, rd bodyReading) error {
	if r.ContentLength > rd.limit {
		return &bodyError{http.StatusRequestEntityTooLarge, fmt.Sprintf("body of %d bytes exceeds the limit of %d", r.ContentLength, rd.limit)}
	}
	if r.ContentLength > 0 && rd.encoding == "" {
		buf.Grow(int(r.ContentLength))
	}
	paced := newPacedBody(w, r, rd.minRate, rd.grace)
	var body io.Reader = http.MaxBytesReader(w, paced, rd.limit)
	if rd.encoding == encodingGzip {
		zr, err := gzipReader(body)
		if err != nil {
			return rd.failed(err, paced)
		}
		defer gzipReaders.Put(zr)
		body = io.LimitReader(zr, rd.limit+1)
	}
	if _, err := buf.ReadFrom(body); err != nil {
		return rd.failed(err, paced)
	}
	if int64(buf.Len()) > rd.limit {
		return &bodyError{http.StatusRequestEntityTooLarge, fmt.Sprintf("body exceeds the limit of %d bytes once decompressed", rd.limit)}
	}
	return nil
}

// gzipReader returns a pooled decompressor reading r.
func gzipReader(r io.Reader) (*gzip.Reader, error) {
	if zr, ok := gzipReaders.Get().(*gzip.Reader); ok {
		if err := zr.Reset(r); err != nil {
			gzipReaders.Put(zr)
			return nil, err
		}
		return zr, nil
	}
	return gzip.NewReader(r)
}

// failed turns an error reading the body into its bodyError.
func (rd bodyReading) failed(err error, paced *pacedBody) error {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return &bodyError{http.StatusRequestEntityTooLarge, fmt.Sprintf("body exceeds the limit of %d bytes", rd.limit)}
	case paced.timedOut:
		return &bodyError{http.StatusRequestTimeout, fmt.Sprintf("body too slow: it must arrive at %d bytes/s on average after the first %v; "+
			"%d bytes came in %v; nothing is stored, send it again", rd.minRate, rd.grace, paced.n, paced.elapsed().Round(time.Millisecond))}
	case errors.Is(err, io.EOF): // an empty gzip stream: an empty body
		return nil
	case rd.encoding == encodingGzip && isGzipError(err):
		return &bodyError{http.StatusBadRequest, "body is not valid gzip: " + err.Error()}
	}
	return &bodyError{http.StatusBadRequest, "reading body: " + err.Error()}
}

// isGzipError reports whether err is a decompressor's complaint about its input.
func isGzipError(err error) bool {
	var corrupt flate.CorruptInputError
	return errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) || errors.As(err, &corrupt) ||
		errors.Is(err, io.ErrUnexpectedEOF)
}

// pacedBody reads a request body that must keep arriving: before each read it sets the connection's read
// deadline to start + grace + (bytes read so far)/minRate, never later than the server's ReadTimeout after
// start, so a body whose average rate after the grace falls below minRate ends in a timeout. Once the body
// is read to its end, net/http clears the deadline (its background read watches for the client leaving), so
// a request waiting for JetStream is not cut off; a body not read to its end keeps it, which bounds the
// server's attempt to discard the rest. Writers without deadlines (httptest.ResponseRecorder) read unpaced.
type pacedBody struct {
	body     io.ReadCloser
	rc       *http.ResponseController
	start    time.Time
	grace    time.Duration
	minRate  float64
	limit    time.Time // zero: none
	n        int64
	paced    bool
	timedOut bool
}

func newPacedBody(w http.ResponseWriter, r *http.Request, minRate int64, grace time.Duration) *pacedBody {
	p := &pacedBody{body: r.Body, rc: http.NewResponseController(w), start: time.Now(), grace: grace, minRate: float64(minRate), paced: minRate > 0}
	if srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok && srv.ReadTimeout > 0 {
		p.limit = p.start.Add(srv.ReadTimeout)
	}
	return p
}

func (p *pacedBody) Read(b []byte) (int, error) {
	if p.paced {
		deadline := p.start.Add(p.grace + time.Duration(float64(p.n)/p.minRate*float64(time.Second)))
		if !p.limit.IsZero() && deadline.After(p.limit) {
			deadline = p.limit
		}
		if err := p.rc.SetReadDeadline(deadline); err != nil {
			p.paced = false // not supported by this writer
		}
	}
	n, err := p.body.Read(b)
	p.n += int64(n)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		p.timedOut = true
	}
	return n, err
}

func (p *pacedBody) Close() error { return p.body.Close() }

func (p *pacedBody) elapsed() time.Duration { return time.Since(p.start) }

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
