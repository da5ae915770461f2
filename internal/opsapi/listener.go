package opsapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/config"
)

// ListenerFlags are a service's operator API flags: where it listens, the operator keys, and whether a
// loopback-only listener serves requests without a key.
type ListenerFlags struct {
	Addr          string
	Keys          string // NAME=KEY,… (secret)
	KeysFile      string
	AllowLoopback bool
	AddrFlag      string // the flag that sets Addr, for messages ("operator-addr" when empty)
}

// AddFlags declares --operator-addr, --operator-keys, --operator-keys-file and --operator-allow-loopback.
func AddFlags(f *config.FlagSet) *ListenerFlags {
	l := &ListenerFlags{}
	f.StringVar(&l.Addr, "operator-addr", "", "listen address of the operator API (/api/v1/: explain, usage, status, dead letters, parked files); empty: none")
	f.Secret(&l.Keys, "operator-keys", "operator keys, comma-separated NAME=KEY entries (the name is who acts)")
	f.StringVar(&l.KeysFile, "operator-keys-file", "", "file of operator keys, one NAME=KEY a line")
	f.BoolVar(&l.AllowLoopback, "operator-allow-loopback", false, "on a loopback-only --operator-addr, serve requests without a key (development)")
	return l
}

// Check loads the keys and refuses an address that is not loopback-only without keys.
func (l *ListenerFlags) Check() (Keys, error) {
	keys, err := LoadKeys(l.KeysFile, l.Keys)
	if err != nil || l.Addr == "" || keys.Len() > 0 {
		return keys, err
	}
	flag := l.AddrFlag
	if flag == "" {
		flag = "operator-addr"
	}
	host, _, err := net.SplitHostPort(l.Addr)
	if err != nil {
		return keys, fmt.Errorf("--%s %q: %w", flag, l.Addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return keys, fmt.Errorf("%w: --%s %q is not a loopback address; give --operator-keys or --operator-keys-file",
			ErrOpenToNetwork, flag, l.Addr)
	}
	return keys, nil
}

// shutdownGrace bounds how long a stopping operator listener waits for requests in progress.
const shutdownGrace = 5 * time.Second

// Start serves the read services over conn on the flags' address until ctx ends (nothing when the address is
// empty) and returns the address it listens on.
func (l *ListenerFlags) Start(ctx context.Context, conn *bus.Conn, rc ReadConfig, log *slog.Logger) (string, error) {
	if l.Addr == "" {
		return "", nil
	}
	keys, err := l.Check()
	if err != nil {
		return "", fmt.Errorf("opsapi: %w", err)
	}
	return StartServer(ctx, l.Addr, conn, rc, Options{Keys: keys, AllowLoopback: l.AllowLoopback, Logger: log})
}

// StartServer listens on addr (refused on the network without keys) and serves the read and write services over conn
// with o (its Listener set to the bound address) until ctx ends; it returns the bound address.
func StartServer(ctx context.Context, addr string, conn *bus.Conn, rc ReadConfig, o Options) (string, error) {
	ln, err := Listen(addr, o.Keys)
	if err != nil {
		return "", err
	}
	svc, err := NewReadServices(ctx, conn, rc)
	if err == nil {
		err = AddWriteServices(ctx, conn, &svc, rc)
	}
	if err != nil {
		ln.Close()
		return "", err
	}
	o.Listener = ln.Addr()
	h := NewHandler(o, svc)
	go func() {
		if err := Serve(ctx, ln, h, shutdownGrace); err != nil && !errors.Is(err, context.Canceled) && o.Logger != nil {
			o.Logger.Error("operator API stopped", "err", err)
		}
	}()
	if o.Logger != nil {
		o.Logger.Info("operator API listening", "addr", ln.Addr().String(), "operators", len(o.Keys.Names()),
			"open_on_loopback", o.AllowLoopback && IsLoopback(ln.Addr()))
	}
	return ln.Addr().String(), nil
}
