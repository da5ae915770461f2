package natsembed

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// Ports picked by FreePort lie in [lowestPickedPort, the ephemeral range's start); pickAttempts bounds the
// tries there before the kernel picks one itself.
const (
	lowestPickedPort = 10000
	pickAttempts     = 64
)

// ephemeralRangeFile holds the kernel's range of local ports for outgoing connections (Linux).
const ephemeralRangeFile = "/proc/sys/net/ipv4/ip_local_port_range"

// FreePort returns a TCP port on host that was free a moment ago, for a listener started later (a child
// process, a server restarted on the same port). It picks the port below the kernel's ephemeral range when it
// can read that range: between the pick and the bind, a port inside the range can be taken by any outgoing
// connection on the machine (a busy test run makes thousands), a port below it only by another listener.
// Elsewhere the kernel picks one.
func FreePort(host string) (int, error) {
	if end := ephemeralStart(); end > lowestPickedPort {
		for range pickAttempts {
			port := lowestPickedPort + rand.IntN(end-lowestPickedPort)
			if portFree(host, port) {
				return port, nil
			}
		}
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("natsembed: pick free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// portFree reports whether a listener can bind host:port now.
func portFree(host string, port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// ephemeralStart returns the first port of the kernel's ephemeral range, or 0 when it cannot be read.
func ephemeralStart() int {
	b, err := os.ReadFile(ephemeralRangeFile)
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b))
	if len(fields) != 2 {
		return 0
	}
	start, err := strconv.Atoi(fields[0])
	if err != nil {
		return 0
	}
	return start
}
