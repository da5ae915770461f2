package ingest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Defaults of ServerOptions.
const (
	DefaultReadTimeout     = 30 * time.Second
	DefaultMaxHeaderBytes  = 64 << 10
	DefaultShutdownTimeout = 30 * time.Second
	readHeaderTimeout      = 10 * time.Second
	idleTimeout            = 2 * time.Minute
)

// ServerOptions tunes the HTTP server of [ServeWith]. Zero values take the defaults.
type ServerOptions struct {
	ReadTimeout     time.Duration // the whole request, body included (a POST /v1/events body: from its start, see pacedBody)
	MaxHeaderBytes  int           // request header limit (431 beyond)
	ShutdownTimeout time.Duration // how long shutdown waits for in-flight requests
	DrainDelay      time.Duration // between /readyz answering 503 and the server closing its listener
}

func (o ServerOptions) withDefaults() ServerOptions {
	o.ReadTimeout = time.Duration(orDefault(int64(o.ReadTimeout), int64(DefaultReadTimeout)))
	o.MaxHeaderBytes = int(orDefault(int64(o.MaxHeaderBytes), DefaultMaxHeaderBytes))
	o.ShutdownTimeout = time.Duration(orDefault(int64(o.ShutdownTimeout), int64(DefaultShutdownTimeout)))
	return o
}

// drainer models a handler that reports itself not ready once shutdown begins (the Service's Handler).
type drainer interface{ beginDrain() }

// Serve is ServeWith with the default options and the given shutdown timeout.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, timeout time.Duration) error {
	return ServeWith(ctx, ln, h, ServerOptions{ShutdownTimeout: timeout})
}

// ServeWith serves h on ln until ctx ends. Then it makes h's /readyz answer 503 (when h is a Service's
// Handler), waits DrainDelay while still serving, stops accepting and waits up to ShutdownTimeout (on a
// fresh context) for in-flight requests to finish: each is answered once its packets are acknowledged.
func ServeWith(ctx context.Context, ln net.Listener, h http.Handler, o ServerOptions) error {
	o = o.withDefaults()
	srv := &http.Server{
		Handler: h, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: o.ReadTimeout,
		MaxHeaderBytes: o.MaxHeaderBytes, IdleTimeout: idleTimeout,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("ingest: serve: %w", err)
	case <-ctx.Done():
	}
	if d, ok := h.(drainer); ok {
		d.beginDrain()
	}
	time.Sleep(o.DrainDelay)
	sctx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("ingest: shutdown: %w", err)
	}
	<-done
	return nil
}
