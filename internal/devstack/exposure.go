package devstack

import (
	"errors"
	"fmt"
	"net"
)

// checkExposure refuses to open to the network what takes no key there: the embedded JetStream server, which
// dev runs without authentication (whoever reaches it may write, purge or rewrite usage and the ledger), and
// the emulator while it takes the public dev key (printed by dev and in the README). Ingest and the operator
// API are checked where they listen (they take keys).
func (o Options) checkExposure() error {
	var errs []error
	if !loopbackAddr(o.NATSAddr) {
		errs = append(errs, fmt.Errorf("devstack: --nats-addr %s is not a loopback address, and dev's JetStream server "+
			"takes no credentials: anyone who reaches it could write or delete usage; keep it on 127.0.0.1 (for a "+
			"server on the network, run `usagepipe nats` with --auth-* and the services on their own)", o.NATSAddr))
	}
	if !loopbackAddr(o.EmulatorAddr) && o.ConnectAPIKey == DefaultConnectAPIKey {
		errs = append(errs, fmt.Errorf("devstack: --emulator-addr %s is not a loopback address, and the emulator takes the "+
			"public dev key: give --connect-api-key a key of your own", o.EmulatorAddr))
	}
	return errors.Join(errs...)
}

// loopbackAddr reports whether the host of the host:port addr is localhost or a loopback IP (not the
// unspecified address, and not a name that may resolve elsewhere).
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
