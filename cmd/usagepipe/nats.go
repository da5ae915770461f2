package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/natsembed"
)

// runNATS runs an embedded JetStream server until ctx is cancelled (the chaos harness runs it as a separate
// process so it can be SIGKILLed). It prints "nats ready <url>" once clients can connect.
func runNATS(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	f := config.NewFlagSet("nats", getenv)
	f.SetOutput(stdout)
	addr := f.String("addr", "127.0.0.1:4222", "client listen address host:port")
	store := f.String("store", "", "JetStream store directory (required)")
	name := f.String("name", "", "server name (default derived from the port)")
	clusterAddr := f.String("cluster-addr", "", "route listen address host:port (enables clustering)")
	routes := f.String("routes", "", "comma-separated nats-route://host:port URLs of the cluster's nodes")
	clusterName := f.String("cluster-name", "usagepipe", "cluster name, the same on every node")
	syncAlways := f.Bool("sync-always", false, "fsync every write (sync_interval: always)")
	logs := f.Bool("logs", false, "write the server log to stderr")
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("nats: %w", err)
	}
	opts, err := natsOptions(*addr, *store, *name, *clusterAddr, *routes, *clusterName)
	opts.SyncAlways, opts.Logs = *syncAlways, *logs
	if f.ValidateOnly() {
		return f.Validate(stdout, err)
	}
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	srv, err := natsembed.Start(opts)
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	defer srv.Shutdown()
	fmt.Fprintln(stdout, "nats ready", srv.URL())
	<-ctx.Done()
	return nil
}

// natsOptions turns the flags into natsembed options, reporting every problem at once.
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
