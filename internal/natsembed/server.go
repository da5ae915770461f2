package natsembed

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/usagepipe/usagepipe/internal/dirlock"
)

// Options configures one embedded server.
type Options struct {
	StoreDir   string          // JetStream file store directory (required)
	Host       string          // listen host; default 127.0.0.1
	Port       int             // client port; 0 = pick a free port once, reused on Restart
	Name       string          // server name; default derived from the port
	Cluster    *ClusterOptions // nil = standalone
	SyncAlways bool            // fsync every write (sync_interval: always)
	Logs       bool            // write the server's log to stderr
	Auth       *Auth           // nil = no authentication
	TLS        *TLS            // nil = plain TCP
	// AllowAnonymous lets Start serve clients without Auth on a non-loopback Host, and routes on a
	// non-loopback cluster host; without it Start refuses both (ErrExposed).
	AllowAnonymous bool
}

// ClusterOptions joins the server to a JetStream cluster.
type ClusterOptions struct {
	Name   string   // cluster name, the same on every node
	Host   string   // route listen host; default Options.Host
	Port   int      // route port; 0 = pick a free port once
	Routes []string // nats-route://host:port URLs of the nodes (this node's own URL may be included)
}

// Server is a running (or restartable) embedded nats-server.
type Server struct {
	mu   sync.Mutex
	opts Options // resolved: ports fixed
	srv  *server.Server
	lock *dirlock.Lock // the store's lock, held while srv runs
}

const (
	// defaultHost is the listen host of Options.Host "".
	defaultHost = "127.0.0.1"
	// readyTimeout bounds how long Start and Restart wait for the server to accept connections.
	readyTimeout = 30 * time.Second
	// tlsTimeout bounds a client's TLS handshake (nats-server's default, 2 s, is short on a loaded machine).
	tlsTimeout = 5 * time.Second
)

// ErrNotReady is returned when a started server does not become ready in time.
var ErrNotReady = errors.New("natsembed: server not ready")

// Start starts a JetStream server with a file store and waits until it accepts connections.
func Start(opts Options) (*Server, error) {
	resolved, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: resolved}
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

// resolve fills defaults and fixes ports so that Restart reuses them.
func resolve(opts Options) (Options, error) {
	if opts.StoreDir == "" {
		return opts, errors.New("natsembed: StoreDir is required")
	}
	if err := errors.Join(opts.Auth.Check(), opts.TLS.Check()); err != nil {
		return opts, fmt.Errorf("natsembed: %w", err)
	}
	opts = opts.withHosts()
	if err := opts.Exposure(); err != nil && !opts.AllowAnonymous {
		return opts, fmt.Errorf("%w (listen on loopback, give Auth, or set AllowAnonymous)", err)
	}
	var err error
	if opts.Port == 0 {
		if opts.Port, err = FreePort(opts.Host); err != nil {
			return opts, err
		}
	}
	if opts.Name == "" {
		opts.Name = "usagepipe-" + strconv.Itoa(opts.Port)
	}
	if opts.Cluster != nil {
		c := *opts.Cluster
		if c.Port == 0 {
			if c.Port, err = FreePort(c.Host); err != nil {
				return opts, err
			}
		}
		c.Routes = append([]string(nil), c.Routes...)
		opts.Cluster = &c
	}
	return opts, nil
}

// serverOptions builds a fresh nats-server Options value (nats-server must not reuse one); TLS files are
// read again at every start.
func (o Options) serverOptions() (*server.Options, error) {
	so := &server.Options{
		ServerName: o.Name,
		Host:       o.Host,
		Port:       o.Port,
		JetStream:  true,
		StoreDir:   o.StoreDir,
		SyncAlways: o.SyncAlways,
		NoSigs:     true,
		NoLog:      !o.Logs,
	}
	if c := o.Cluster; c != nil {
		so.Cluster = server.ClusterOpts{Name: c.Name, Host: c.Host, Port: c.Port}
		routes := ""
		for i, r := range c.Routes {
			if i > 0 {
				routes += ","
			}
			routes += r
		}
		so.Routes = server.RoutesFromStr(routes)
	}
	o.Auth.apply(so)
	if err := o.TLS.apply(so); err != nil {
		return nil, err
	}
	return so, nil
}

// start locks the store and creates and starts a new nats-server instance on it; the caller holds no lock.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	lock, err := dirlock.Acquire(s.opts.StoreDir)
	if err != nil {
		return fmt.Errorf("natsembed: store: %w", err)
	}
	if err := s.startLocked(); err != nil {
		return errors.Join(err, lock.Release())
	}
	s.lock = lock
	return nil
}

// startLocked starts the server once the store is locked; s.mu is held.
func (s *Server) startLocked() error {
	if err := s.opts.checkPortsFree(); err != nil {
		return err
	}
	so, err := s.opts.serverOptions()
	if err != nil {
		return err
	}
	srv, err := server.NewServer(so)
	if err != nil {
		return fmt.Errorf("natsembed: new server %s: %w", s.opts.Name, err)
	}
	if s.opts.Logs {
		srv.ConfigureLogger()
	}
	srv.Start()
	if !waitReady(srv) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return fmt.Errorf("natsembed: start %s on %s: %w", s.opts.Name, s.addr(), ErrNotReady)
	}
	s.srv = srv
	return nil
}

// checkPortsFree fails fast when a port is taken: nats-server would otherwise never become ready (and with
// Logs on, its logger exits the process).
func (o Options) checkPortsFree() error {
	addrs := []string{net.JoinHostPort(o.Host, strconv.Itoa(o.Port))}
	if c := o.Cluster; c != nil {
		addrs = append(addrs, net.JoinHostPort(c.Host, strconv.Itoa(c.Port)))
	}
	for _, addr := range addrs {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("natsembed: start %s: %w", o.Name, err)
		}
		l.Close()
	}
	return nil
}

// waitReady polls with short attempts so that a slow start is noticed without one long blocking wait.
func waitReady(srv *server.Server) bool {
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		if srv.ReadyForConnections(time.Second) && srv.JetStreamEnabled() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

func (s *Server) addr() string { return net.JoinHostPort(s.opts.Host, strconv.Itoa(s.opts.Port)) }

// URL is the client URL, nats://host:port; it does not change across restarts.
func (s *Server) URL() string { return "nats://" + s.addr() }

// StoreDir is the JetStream store directory.
func (s *Server) StoreDir() string { return s.opts.StoreDir }

// Name is the server name.
func (s *Server) Name() string { return s.opts.Name }

// ClusterURL is this node's route URL (nats-route://host:port), or "" when not clustered.
func (s *Server) ClusterURL() string {
	c := s.opts.Cluster
	if c == nil {
		return ""
	}
	return "nats-route://" + net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

// Restart shuts the server down gracefully and starts it again on the same port and store.
func (s *Server) Restart() error {
	s.Shutdown()
	return s.start()
}

// Shutdown stops the server gracefully, waits until it has stopped and unlocks the store. It is idempotent.
func (s *Server) Shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return
	}
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
	s.srv = nil
	_ = s.lock.Release() // only a failed truncate of the lock file; the kernel lock is gone with the file
	s.lock = nil
}

// Running reports whether the server is currently started.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv != nil && s.srv.Running()
}

// jetStreamState reports whether this node is current with a meta leader, whether it is the leader, and (on
// the leader) how many peers are online with JetStream and known statistics, that is usable for placement.
func (s *Server) jetStreamState() (current, leader bool, peers int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return false, false, 0
	}
	leader = s.srv.JetStreamIsLeader()
	if leader {
		peers = len(s.srv.JetStreamClusterPeers())
	}
	return s.srv.JetStreamIsCurrent(), leader, peers
}
