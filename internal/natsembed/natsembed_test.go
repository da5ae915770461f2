package natsembed_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/dirlock"
	"github.com/usagepipe/usagepipe/internal/natsembed"
	"github.com/usagepipe/usagepipe/internal/natsembed/natsembedtest"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func connect(t *testing.T, url string) *bus.Conn {
	t.Helper()
	c, err := bus.Connect(testContext(t), bus.Config{URL: url, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestRestartKeepsPortAndStore: after Restart the same URL serves the same streams and messages.
func TestRestartKeepsPortAndStore(t *testing.T) {
	s := natsembedtest.Start(t)
	url := s.URL()
	if !strings.HasPrefix(url, "nats://127.0.0.1:") {
		t.Fatalf("URL %q", url)
	}
	c := connect(t, url)
	ctx := testContext(t)
	if err := c.Provision(ctx, bus.Topology{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(ctx, bus.Msg{Subject: "usage.events.1", Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if s.URL() != url {
		t.Fatalf("URL changed across restart: %s, then %s", url, s.URL())
	}
	ack, err := c.Publish(ctx, bus.Msg{Subject: "usage.events.1", Data: []byte("y")})
	if err != nil {
		t.Fatal(err)
	}
	if ack.Seq != 2 {
		t.Fatalf("seq after restart %d, want 2 (the store was kept)", ack.Seq)
	}
}

func TestStartValidatesOptions(t *testing.T) {
	if _, err := natsembed.Start(natsembed.Options{}); err == nil {
		t.Error("no store dir: want an error")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	if _, err := natsembed.Start(natsembed.Options{StoreDir: t.TempDir(), Port: port}); err == nil {
		t.Error("busy port: want an error")
	}
}

func TestShutdownIsIdempotent(t *testing.T) {
	s, err := natsembed.Start(natsembed.Options{StoreDir: filepath.Join(t.TempDir(), "js"), Name: "solo"})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Running() || s.Name() != "solo" {
		t.Fatalf("running %v name %q", s.Running(), s.Name())
	}
	s.Shutdown()
	s.Shutdown()
	if s.Running() {
		t.Fatal("running after Shutdown")
	}
}

// TestClusterElectsLeaderAndServesR3 starts three nodes, provisions replicated streams and survives a node
// restart.
func TestClusterElectsLeaderAndServesR3(t *testing.T) {
	if testing.Short() {
		t.Skip("3-node cluster: skipped with -short")
	}
	c := natsembedtest.StartCluster(t, 3)
	if n := len(c.Nodes()); n != 3 {
		t.Fatalf("%d nodes", n)
	}
	if n := len(strings.Split(c.URLs(), ",")); n != 3 {
		t.Fatalf("URLs %q", c.URLs())
	}
	conn := connect(t, c.URLs())
	ctx := testContext(t)
	if err := conn.Provision(ctx, bus.Topology{Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	if err := c.Nodes()[1].Restart(); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitMetaLeader(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Publish(ctx, bus.Msg{Subject: "usage.events.0", Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := conn.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.LastMsg(ctx, bus.StreamEvents, "usage.events.0"); errors.Is(err, bus.ErrNotFound) || err != nil {
		t.Fatalf("last msg: %v", err)
	}
}

// TestSecondServerOnAStoreIsRefused: a store a running server holds is refused to another server (of this
// process or any other), naming the holder; Restart keeps it, Shutdown frees it.
func TestSecondServerOnAStoreIsRefused(t *testing.T) {
	s := natsembedtest.Start(t)
	_, err := natsembed.Start(natsembed.Options{StoreDir: s.StoreDir()})
	if !errors.Is(err, dirlock.ErrHeld) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second server on the store: want a refusal naming pid %d, have %v", os.Getpid(), err)
	}
	if err := s.Restart(); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	if _, err := natsembed.Start(natsembed.Options{StoreDir: s.StoreDir()}); !errors.Is(err, dirlock.ErrHeld) {
		t.Fatalf("after Restart: want a refusal, have %v", err)
	}
	s.Shutdown()
	again, err := natsembed.Start(natsembed.Options{StoreDir: s.StoreDir()})
	if err != nil {
		t.Fatalf("after Shutdown: %v", err)
	}
	again.Shutdown()
}

// TestOpenToTheNetworkOnlyWithCredentialsOrConsent: a client port beyond loopback without Auth, and a route
// port beyond loopback (routes take no credentials), are refused (ErrExposed) before anything is written,
// unless AllowAnonymous; a client port beyond loopback with Auth, and loopback hosts, open nothing so.
func TestOpenToTheNetworkOnlyWithCredentialsOrConsent(t *testing.T) {
	auth := &natsembed.Auth{Token: "a-token-of-some-length"}
	for _, tt := range []struct {
		name    string
		opts    natsembed.Options
		exposed string // what the refusal names; "" when nothing is exposed
	}{
		{"default host", natsembed.Options{}, ""},
		{"localhost", natsembed.Options{Host: "localhost"}, ""},
		{"any interface", natsembed.Options{Host: "0.0.0.0"}, `clients on host "0.0.0.0"`},
		{"IPv6 any", natsembed.Options{Host: "::"}, `clients on host "::"`},
		{"a name", natsembed.Options{Host: "nats.example.test"}, `clients on host "nats.example.test"`},
		{"any interface with a token", natsembed.Options{Host: "0.0.0.0", Auth: auth}, ""},
		{"routes on any interface", natsembed.Options{Auth: auth, Cluster: &natsembed.ClusterOptions{Name: "c", Host: "0.0.0.0"}},
			`routes on host "0.0.0.0"`},
		{"routes on the client host", natsembed.Options{Host: "0.0.0.0", Auth: auth, Cluster: &natsembed.ClusterOptions{Name: "c"}},
			`routes on host "0.0.0.0"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			exp := tt.opts.Exposure()
			if (exp != nil) != (tt.exposed != "") || exp != nil && (!errors.Is(exp, natsembed.ErrExposed) || !strings.Contains(exp.Error(), tt.exposed)) {
				t.Fatalf("Exposure: %v, want %q", exp, tt.exposed)
			}
			if tt.exposed == "" {
				return
			}
			opts := tt.opts
			opts.StoreDir = filepath.Join(t.TempDir(), "js")
			if _, err := natsembed.Start(opts); !errors.Is(err, natsembed.ErrExposed) {
				t.Fatalf("Start: want ErrExposed, have %v", err)
			}
			if _, err := os.Stat(opts.StoreDir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the refused server made its store: %v", err)
			}
		})
	}
	s, err := natsembed.Start(natsembed.Options{StoreDir: t.TempDir(), Host: "0.0.0.0", AllowAnonymous: true})
	if err != nil {
		t.Fatalf("AllowAnonymous: %v", err)
	}
	s.Shutdown()
}
