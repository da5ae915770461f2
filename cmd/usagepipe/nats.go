package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/natsembed"
	"github.com/usagepipe/usagepipe/internal/startup"
)

// natsFlags are the nats command line (each also read from USAGEPIPE_<NAME>).
type natsFlags struct {
	addr, store, name                string
	clusterAddr, routes, clusterName string
	syncAlways, logs                 bool
	user, password, passwordFile     string
	token, tokenFile, nkeys          string
	tlsCert, tlsKey, tlsCA           string
	tlsVerify, allowAnonymous        bool
}

func (f *natsFlags) declare(fs *config.FlagSet) {
	fs.StringVar(&f.addr, "addr", "127.0.0.1:4222", "client listen address host:port")
	fs.StringVar(&f.store, "store", "", "JetStream store directory (required; locked while the server runs)")
	fs.StringVar(&f.name, "name", "", "server name (default derived from the port)")
	fs.StringVar(&f.clusterAddr, "cluster-addr", "", "route listen address host:port (enables clustering)")
	fs.StringVar(&f.routes, "routes", "", "comma-separated nats-route://host:port URLs of the cluster's nodes")
	fs.StringVar(&f.clusterName, "cluster-name", "usagepipe", "cluster name, the same on every node")
	fs.BoolVar(&f.syncAlways, "sync-always", false, "fsync every write (sync_interval: always)")
	fs.BoolVar(&f.logs, "logs", false, "write the server log to stderr")
	fs.StringVar(&f.user, "auth-user", "", "require this user (with its password) of clients")
	fs.Secret(&f.password, "auth-password", "the user's password, plain or bcrypt")
	fs.StringVar(&f.passwordFile, "auth-password-file", "", "file holding the user's password (instead of --auth-password)")
	fs.Secret(&f.token, "auth-token", "require this token of clients (excludes users and nkeys)")
	fs.StringVar(&f.tokenFile, "auth-token-file", "", "file holding the token (instead of --auth-token)")
	fs.StringVar(&f.nkeys, "auth-nkeys", "", "comma-separated public user nkeys (U…) allowed to connect")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "server certificate (PEM): the client port then takes TLS only")
	fs.StringVar(&f.tlsKey, "tls-key", "", "server key (PEM)")
	fs.StringVar(&f.tlsCA, "tls-ca", "", "CA (PEM) that signs client certificates (with --tls-verify)")
	fs.BoolVar(&f.tlsVerify, "tls-verify", false, "require and verify client certificates against --tls-ca")
	fs.BoolVar(&f.allowAnonymous, "allow-anonymous", false, "serve a non-loopback --addr without --auth-*, or a non-loopback "+
		"--cluster-addr (routes take no credentials): refused otherwise, as anyone reaching it could write or delete usage")
}

// runNATS runs an embedded JetStream server until ctx is cancelled (the chaos harness runs it as a separate
// process so it can be SIGKILLed). It prints "nats ready <url>" once clients can connect. The store is locked
// while it runs: a second server on it is refused.
func runNATS(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := &natsFlags{}
	var opts natsembed.Options
	check := func() (err error) { opts, err = f.options(); return err }
	serve := func(ctx context.Context, env startup.Env) error {
		srv, err := natsembed.Start(opts)
		if err != nil {
			return err
		}
		defer srv.Shutdown()
		fmt.Fprintf(env.Stdout, "nats ready %s (authentication: %s, TLS: %v)\n", srv.URL(), opts.Auth, opts.TLS != nil)
		if exp := opts.Exposure(); exp != nil {
			fmt.Fprintf(env.Stdout, "warning: --allow-anonymous: %v; anyone who reaches it can write or delete usage\n", exp)
		}
		<-ctx.Done()
		return nil
	}
	return startup.Run(ctx, startup.Command{Name: "nats", Flags: f.declare, Check: check, Serve: serve}, args, getenv, stdout)
}

// options turns the flags into natsembed options, reporting every problem at once.
func (f *natsFlags) options() (natsembed.Options, error) {
	opts, err := natsOptions(f.addr, f.store, f.name, f.clusterAddr, f.routes, f.clusterName)
	opts.SyncAlways, opts.Logs = f.syncAlways, f.logs
	auth, authErr := f.auth()
	opts.Auth, opts.TLS, opts.AllowAnonymous = auth, f.tls(), f.allowAnonymous
	return opts, errors.Join(err, authErr, f.checkTLS(), f.checkExposure(opts))
}

// checkExposure refuses options that open the server beyond loopback without credentials, unless
// --allow-anonymous.
func (f *natsFlags) checkExposure(opts natsembed.Options) error {
	exp := opts.Exposure()
	if exp == nil || f.allowAnonymous {
		return nil
	}
	return fmt.Errorf("%w: listen on 127.0.0.1, give clients --auth-user (with its password), --auth-token-file or "+
		"--auth-nkeys (routes take none), or pass --allow-anonymous", exp)
}

// auth reads the authentication flags and files; nil when none is set.
func (f *natsFlags) auth() (*natsembed.Auth, error) {
	password, errP := secretOf("--auth-password", f.password, f.passwordFile)
	token, errT := secretOf("--auth-token", f.token, f.tokenFile)
	a := &natsembed.Auth{Token: token}
	if f.user != "" || password != "" {
		a.Users = []natsembed.User{{Name: f.user, Password: password}}
	}
	for _, k := range strings.Split(f.nkeys, ",") {
		if k = strings.TrimSpace(k); k != "" {
			a.NKeys = append(a.NKeys, k)
		}
	}
	if len(a.Users) == 0 && a.Token == "" && len(a.NKeys) == 0 {
		return nil, errors.Join(errP, errT)
	}
	return a, errors.Join(errP, errT, a.Check())
}

// secretOf is the secret given by its flag (or variable) or read from its file, never both.
func secretOf(name, value, file string) (string, error) {
	switch {
	case file == "":
		return value, nil
	case value != "":
		return "", fmt.Errorf("%s and %s-file exclude each other", name, name)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s-file: %w", name, err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("%s-file %s is empty", name, file)
	}
	return s, nil
}

// tls is the TLS configuration; nil without --tls-cert and --tls-key.
func (f *natsFlags) tls() *natsembed.TLS {
	if f.tlsCert == "" && f.tlsKey == "" {
		return nil
	}
	return &natsembed.TLS{CertFile: f.tlsCert, KeyFile: f.tlsKey, CAFile: f.tlsCA, Verify: f.tlsVerify}
}

func (f *natsFlags) checkTLS() error {
	var errs []error
	if (f.tlsCert == "") != (f.tlsKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	if f.tlsVerify && (f.tlsCA == "" || f.tlsCert == "") {
		errs = append(errs, errors.New("--tls-verify needs --tls-ca and --tls-cert/--tls-key"))
	}
	if f.tlsCA != "" && !f.tlsVerify {
		errs = append(errs, errors.New("--tls-ca is used only with --tls-verify"))
	}
	return errors.Join(errs...)
}

// natsOptions turns the listen, store and cluster flags into natsembed options, reporting every problem at once.
func natsOptions(addr, store, name, clusterAddr, routes, clusterName string) (natsembed.Options, error) {
	var errs []error
	opts := natsembed.Options{StoreDir: store, Name: name}
	if store == "" {
		errs = append(errs, errors.New("--store is required"))
	}
	var err error
	if opts.Host, opts.Port, err = hostPort(addr); err != nil {
		errs = append(errs, fmt.Errorf("--addr: %w", err))
	}
	if clusterAddr != "" {
		c := &natsembed.ClusterOptions{Name: clusterName}
		if c.Host, c.Port, err = hostPort(clusterAddr); err != nil {
			errs = append(errs, fmt.Errorf("--cluster-addr: %w", err))
		}
		for _, r := range strings.Split(routes, ",") {
			if r = strings.TrimSpace(r); r != "" {
				c.Routes = append(c.Routes, r)
			}
		}
		opts.Cluster = c
	} else if routes != "" {
		errs = append(errs, errors.New("--routes needs --cluster-addr"))
	}
	return opts, errors.Join(errs...)
}

func hostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	return host, port, nil
}
