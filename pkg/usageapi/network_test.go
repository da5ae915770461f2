package usageapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// permanentCase is a client whose every request meets one network failure a retry would meet again.
type permanentCase struct {
	name   string
	client func(t *testing.T) (*Client, *fakeClock)
}

// TestPermanentNetworkFailuresAreNotRetried: an untrusted certificate and a host that does not exist fail
// at once, with no wait.
func TestPermanentNetworkFailuresAreNotRetried(t *testing.T) {
	cases := []permanentCase{
		{"untrusted certificate", func(t *testing.T) (*Client, *fakeClock) {
			srv := httptest.NewTLSServer(http.NotFoundHandler())
			t.Cleanup(srv.Close)
			return clientOf(t, srv.URL, nil)
		}},
		{"no such host", func(t *testing.T) (*Client, *fakeClock) {
			return clientOf(t, "https://connect.example.invalid", dnsFailure(true))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, clock := tc.client(t)
			_, err := c.GetFile(ctxT(t), "UF-1")
			var ne *NetworkError
			if !errors.As(err, &ne) || !PermanentNetwork(err) || Retryable(err) {
				t.Fatalf("err %v: want a permanent network error", err)
			}
			if w := clock.Waits(); len(w) != 0 {
				t.Errorf("waited %v before retrying a permanent failure", w)
			}
		})
	}
}

// TestTemporaryDNSFailureIsRetried: a resolver that times out may answer the next time.
func TestTemporaryDNSFailureIsRetried(t *testing.T) {
	c, clock := clientOf(t, "https://connect.example.invalid", dnsFailure(false))
	_, err := c.GetFile(ctxT(t), "UF-1")
	if !Retryable(err) || len(clock.Waits()) == 0 {
		t.Fatalf("err %v after %d waits: want retries of a temporary DNS failure", err, len(clock.Waits()))
	}
}

// dnsFailure is a dialer that fails the way the resolver does: no such host, or a timeout.
func dnsFailure(notFound bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{
			Err: "lookup failed", Name: host, IsNotFound: notFound, IsTimeout: !notFound}}
	}
}

// clientOf is a client of base with a fake clock and, if dial is set, a transport that dials with it.
func clientOf(t *testing.T, base string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) (*Client, *fakeClock) {
	t.Helper()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if dial != nil {
		transport.DialContext = dial
	}
	clock := newFakeClock()
	c, err := New(base, testKey, WithClock(clock), WithHTTPClient(&http.Client{Transport: transport}))
	if err != nil {
		t.Fatal(err)
	}
	return c, clock
}
