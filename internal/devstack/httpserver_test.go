package devstack

import (
	"net"
	"net/http"
	"testing"
)

// TestStopWaitsOutAConnectionThatSentNothing: a client connection that has sent no request yet (net/http
// counts it as active for 5 s) does not make stop fail, and the server is closed afterwards.
func TestStopWaitsOutAConnectionThatSentNothing(t *testing.T) {
	srv, err := serveHTTP("127.0.0.1:0", http.HandlerFunc(healthz))
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := srv.stop(); err != nil {
		t.Fatalf("stop with a fresh connection open: %v", err)
	}
	if c2, err := net.Dial("tcp", srv.addr); err == nil {
		c2.Close()
		t.Error("the listener still accepts after stop")
	}
}
