package opsapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// Prefix is the path every route of the operator API starts with.
const Prefix = "/api/v1/"

// LoopbackOperator is the operator of requests served without a key on an open loopback listener.
const LoopbackOperator = "loopback"

// Operator is who sends a request: the name of the operator key it carries, or LoopbackOperator. Write actions
// record it (with Via "http").
type Operator struct {
	Name string `json:"name"`
	Via  string `json:"via"`
}

// HandlerFunc serves one route for an authenticated operator. It writes its answer (see Reply) or returns an
// error, which is answered as JSON (an *Error with its status and reason, anything else 500).
type HandlerFunc func(w http.ResponseWriter, r *http.Request, op Operator) error

// Options configures a Server.
type Options struct {
	Keys Keys
	// AllowLoopback serves requests without a key as LoopbackOperator, but only when Listener is a loopback
	// address (and the request comes from one): usagepipe dev, or --operator-allow-loopback.
	AllowLoopback bool
	// Listener is the address the server listens on (ln.Addr()); it decides whether AllowLoopback applies.
	Listener net.Addr
	Logger   *slog.Logger
}

// Server is the operator API's handler. Build it with New, add the services' routes (Register), and serve it.
type Server struct {
	mux  *http.ServeMux
	keys Keys
	open bool // requests without a key are served (loopback-only listener, AllowLoopback)
	log  *slog.Logger
}

// New returns a server with no routes but the index (GET /api/v1/) and whoami.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{mux: http.NewServeMux(), keys: o.Keys, open: o.AllowLoopback && IsLoopback(o.Listener), log: o.Logger}
	s.Handle("GET "+Prefix+"whoami", func(w http.ResponseWriter, _ *http.Request, op Operator) error {
		return Reply(w, http.StatusOK, op)
	})
	s.mux.HandleFunc("/", s.notServed)
	return s
}

// Handle registers h for pattern ("GET /api/v1/explain", as net/http.ServeMux reads it), behind authentication.
func (s *Server) Handle(pattern string, h HandlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		op, err := s.authenticate(r)
		if err == nil {
			err = h(w, r, op)
		}
		if err != nil {
			writeError(w, r, s.log, err)
		}
	})
}

// ServeHTTP serves the routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// notServed answers a request no route takes: 405 when the path has a route for another method, else 404.
func (s *Server) notServed(w http.ResponseWriter, r *http.Request) {
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		other := r.Clone(r.Context())
		other.Method = m
		if _, pattern := s.mux.Handler(other); m != r.Method && pattern != "/" && pattern != "" {
			writeError(w, r, s.log, Errorf(http.StatusMethodNotAllowed, ReasonMethodNotAllowed, "%s is not allowed on %s",
				r.Method, r.URL.Path))
			return
		}
	}
	writeError(w, r, s.log, Errorf(http.StatusNotFound, ReasonNotServed, "%s %s: no such route (routes start with %s)",
		r.Method, r.URL.Path, Prefix))
}

// authenticate finds the request's operator: the one whose key it carries; without a key, LoopbackOperator when
// the server is open and the request comes from a loopback address.
func (s *Server) authenticate(r *http.Request) (Operator, error) {
	auth := r.Header.Get("Authorization")
	if token, ok := strings.CutPrefix(auth, "Bearer "); ok {
		if name, ok := s.keys.Operator(strings.TrimSpace(token)); ok {
			return Operator{Name: name, Via: "http"}, nil
		}
		return Operator{}, Errorf(http.StatusUnauthorized, ReasonUnauthorized, "the operator key is not known")
	}
	if auth == "" && s.open && RemoteLoopback(r) {
		return Operator{Name: LoopbackOperator, Via: "http"}, nil
	}
	return Operator{}, Errorf(http.StatusUnauthorized, ReasonUnauthorized,
		"an operator key is required: send Authorization: Bearer <key>")
}

// Reply answers v as JSON with status.
func Reply(w http.ResponseWriter, status int, v any) error {
	writeJSON(w, status, v)
	return nil
}

// IsLoopback reports whether addr is a TCP address on a loopback interface.
func IsLoopback(addr net.Addr) bool {
	a, ok := addr.(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}

// RemoteLoopback reports whether the request comes from a loopback address.
func RemoteLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	ip := net.ParseIP(host)
	return err == nil && ip != nil && ip.IsLoopback()
}

// ErrOpenToNetwork: an operator listener on a non-loopback address without keys.
var ErrOpenToNetwork = errors.New("opsapi: the operator API would be open to the network without a key")

// Listen opens the operator listener on addr. A listener that is not loopback-only (e.g. ":9104" or
// "0.0.0.0:9104") is refused without keys.
func Listen(addr string, keys Keys) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("opsapi: listen %s: %w", addr, err)
	}
	if keys.Len() == 0 && !IsLoopback(ln.Addr()) {
		ln.Close()
		return nil, fmt.Errorf("%w: %s is not a loopback address; give --operator-keys or --operator-keys-file", ErrOpenToNetwork, addr)
	}
	return ln, nil
}

// Serve serves h on ln until ctx ends, then shuts down (waiting at most grace for requests in progress).
func Serve(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("opsapi: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	return nil
}
