package natsembed

import (
	"errors"
	"fmt"
	"net"
)

// ErrExposed is matched (errors.Is) by the errors of Exposure, and of Start when it refuses such options.
var ErrExposed = errors.New("natsembed: open to the network without credentials")

// Exposure says what o opens beyond loopback without credentials, whoever reaches the host then able to
// write, purge or rewrite the store: a client port on a non-loopback host without Auth, a route port on a
// non-loopback host (routes take no credentials here). It is nil when o opens nothing so; Start refuses
// anything else unless Options.AllowAnonymous.
func (o Options) Exposure() error {
	o = o.withHosts()
	var errs []error
	if o.Auth == nil && !loopbackHost(o.Host) {
		errs = append(errs, fmt.Errorf("%w: clients on host %q need no authentication", ErrExposed, o.Host))
	}
	if c := o.Cluster; c != nil && !loopbackHost(c.Host) {
		errs = append(errs, fmt.Errorf("%w: routes on host %q take no credentials", ErrExposed, c.Host))
	}
	return errors.Join(errs...)
}

// withHosts fills the default hosts as Start does.
func (o Options) withHosts() Options {
	if o.Host == "" {
		o.Host = defaultHost
	}
	if o.Cluster != nil && o.Cluster.Host == "" {
		c := *o.Cluster
		c.Host = o.Host
		o.Cluster = &c
	}
	return o
}

// loopbackHost reports whether host is localhost or a loopback IP (not the unspecified address, and not a
// name that may resolve elsewhere).
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
