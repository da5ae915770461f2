package natsembed

import (
	"net"
	"strconv"
	"testing"
)

// TestFreePortPicksBelowTheEphemeralRange: a picked port can be bound, and lies below the range the kernel
// hands to outgoing connections, which could take it before the caller binds it.
func TestFreePortPicksBelowTheEphemeralRange(t *testing.T) {
	end := ephemeralStart()
	if end <= lowestPickedPort {
		t.Skipf("no ephemeral range above %d to read here (read %d)", lowestPickedPort, end)
	}
	seen := map[int]bool{}
	for range 20 {
		port, err := FreePort("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if port < lowestPickedPort || port >= end {
			t.Fatalf("port %d outside [%d, %d)", port, lowestPickedPort, end)
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			t.Fatalf("picked port %d cannot be bound: %v", port, err)
		}
		l.Close()
		seen[port] = true
	}
	if len(seen) < 15 {
		t.Errorf("20 picks gave only %d distinct ports: %v", len(seen), seen)
	}
}

// TestPortFreeRefusesAHeldPort: the check FreePort makes of each candidate says no to a port a listener holds.
func TestPortFreeRefusesAHeldPort(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	port := held.Addr().(*net.TCPAddr).Port
	if portFree("127.0.0.1", port) {
		t.Fatalf("port %d is held, portFree says free", port)
	}
}
