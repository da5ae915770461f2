package connectemu

import (
	"bytes"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"
)

// withFaults applies the next fault of route, if any, around serve.
func (e *Emulator) withFaults(route string, serve http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if lag, ok := e.faults.lag(route); ok {
			e.logger.Info("emulator fault", "route", route, "fault", string(lag.Kind))
			r = withListLag(r, lag)
		}
		f, ok := e.faults.next(route)
		if !ok {
			serve(w, r)
			return
		}
		e.logger.Info("emulator fault", "route", route, "fault", f.label())
		if garbled(f.Kind) {
			if f.Served {
				serve(&discardWriter{header: http.Header{}}, r)
			}
			writeGarbled(w, r, f)
			return
		}
		switch f.Kind {
		case FaultLatency:
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
				return
			}
			serve(w, r)
		case FaultThrottle:
			secs := int(math.Ceil(f.Delay.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeError(w, newAPIError(http.StatusTooManyRequests, CodeThrottled, "Request was throttled. Expected available in %d seconds.", secs))
		case FaultStatus:
			writeError(w, newAPIError(f.Status, CodeSystem, "Injected server error %d.", f.Status))
		case FaultReset:
			resetConnection(w)
		case FaultCommitDrop:
			serve(&discardWriter{header: http.Header{}}, r)
			resetConnection(w)
		}
	}
}

// resetConnection drops the client's connection without an answer: a TCP reset when the connection can be
// taken over, else an aborted handler (the server closes the connection or stream).
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// discardWriter is the ResponseWriter a commit-drop request is served into: the answer is lost.
type discardWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (d *discardWriter) Header() http.Header { return d.header }

func (d *discardWriter) WriteHeader(status int) { d.status = status }

func (d *discardWriter) Write(b []byte) (int, error) { return d.body.Write(b) }

func (d *discardWriter) String() string { return fmt.Sprintf("%d %s", d.status, d.body.String()) }
