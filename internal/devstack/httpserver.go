package devstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// shutdownTimeout bounds the graceful stop of each HTTP server and service. It must exceed the 5 s net/http
// waits before it treats a connection that sent nothing yet (a client's fresh dial) as idle: with 5 s, one
// such connection at the wrong moment made every stop fail.
const shutdownTimeout = 15 * time.Second

// httpServer is an HTTP server of the stack's own (emulator, metrics) serving in the background.
type httpServer struct {
	srv  *http.Server
	addr string
	done chan struct{}
}

// serveHTTP listens on addr (port 0 picks a free port) and serves h until stop.
func serveHTTP(addr string, h http.Handler) (*httpServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("devstack: listen %s: %w", addr, err)
	}
	s := &httpServer{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, addr: ln.Addr().String(),
		done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// URL is http://host:port of the listener.
func (s *httpServer) URL() string { return "http://" + s.addr }

// stop finishes in-flight requests (on a fresh context) and closes the listener; connections still open after
// shutdownTimeout are closed by force, and the timeout is reported.
func (s *httpServer) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	<-s.done
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("devstack: stop %s: %w", s.addr, err)
	}
	return nil
}

// healthz answers 200 "ok".
func healthz(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") }
