package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/natsembed/natsembedtest"
)

func TestNATSOptionsReportsEveryProblem(t *testing.T) {
	_, err := natsOptions("nohost", "", "", "", "nats-route://a:1", "c")
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"--store", "--addr", "--routes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	opts, err := natsOptions("127.0.0.1:4999", "/tmp/s", "n1", "127.0.0.1:6222",
		"nats-route://127.0.0.1:6222, nats-route://127.0.0.1:6223", "c")
	if err != nil {
		t.Fatal(err)
	}
	if opts.Port != 4999 || opts.Cluster == nil || opts.Cluster.Port != 6222 || len(opts.Cluster.Routes) != 2 {
		t.Errorf("options %+v cluster %+v", opts, opts.Cluster)
	}
}

// syncBuffer is a goroutine-safe writer for the command's output.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunNATSServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- runNATS(ctx, []string{"--addr", "127.0.0.1:0", "--store", t.TempDir()}, func(string) string { return "" }, out)
	}()
	for !strings.Contains(out.String(), "nats ready nats://127.0.0.1:") {
		select {
		case err := <-done:
			t.Fatalf("runNATS ended: %v (output %q)", err, out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := runNATS(context.Background(), []string{"--validate"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("--validate without --store: want an error")
	}
}

// startNATS runs `usagepipe nats args…` in this process until the test ends and returns its client URL.
func startNATS(t *testing.T, args []string, env map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- runNATS(ctx, args, func(k string) string { return env[k] }, out) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("nats: %v", err)
		}
	})
	for !strings.Contains(out.String(), "nats ready ") {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("runNATS ended: %v (output %q)", err, out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return strings.Fields(strings.TrimPrefix(out.String(), "nats ready "))[0]
}

// TestSecondNATSOnAStoreIsRefused: `usagepipe nats` on a store another running `usagepipe nats` process
// holds is refused, naming that process's pid; once the holder is SIGKILLed, the store can be used at once.
func TestSecondNATSOnAStoreIsRefused(t *testing.T) {
	store := t.TempDir()
	holder := startChild(t, "nats", "--addr", "127.0.0.1:0", "--store", store)
	holder.waitLine(t, "nats ready ")
	err := runNATS(context.Background(), []string{"--addr", "127.0.0.1:0", "--store", store}, func(string) string { return "" }, io.Discard)
	pid := "pid " + strconv.Itoa(holder.cmd.Process.Pid) + " "
	if err == nil || !strings.Contains(err.Error(), pid) || !strings.Contains(err.Error(), filepath.Join(store, ".lock")) {
		t.Fatalf("second nats on the store: want a refusal naming %q and the lock file, have %v", pid, err)
	}
	holder.kill()
	startNATS(t, []string{"--addr", "127.0.0.1:0", "--store", store}, nil)
}

// TestNATSAuthAndTLS: `usagepipe nats` with a user whose password comes from a file and TLS with client
// certificates refuses a client without the password (saying so), and takes a client configured by the
// services' --nats-* flags and USAGEPIPE_NATS_* variables.
func TestNATSAuthAndTLS(t *testing.T) {
	const password = "pw-from-a-file-7f3a"
	certs := natsembedtest.WriteCerts(t)
	pwFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--addr", "127.0.0.1:0", "--store", t.TempDir(), "--auth-user", "svc",
		"--tls-cert", certs.ServerCert, "--tls-key", certs.ServerKey, "--tls-ca", certs.CA, "--tls-verify"}
	env := map[string]string{"USAGEPIPE_AUTH_PASSWORD_FILE": pwFile}
	var validate bytes.Buffer
	if err := runNATS(context.Background(), append(args, "-validate"), func(k string) string { return env[k] }, &validate); err != nil {
		t.Fatalf("-validate: %v\n%s", err, validate.String())
	}
	url := startNATS(t, args, env)

	clientArgs := []string{"--nats-url", url, "--nats-tls-ca", certs.CA, "--nats-tls-cert", certs.ClientCert, "--nats-tls-key", certs.ClientKey}
	_, err := connectWith(t, clientArgs, nil)
	if !errors.Is(err, bus.ErrRefused) || !strings.Contains(err.Error(), "presented no credentials") {
		t.Fatalf("a client without the password: want a refusal saying so, have %v", err)
	}
	c, err := connectWith(t, append(clientArgs, "--nats-user", "svc"), map[string]string{"USAGEPIPE_NATS_PASSWORD": password})
	if err != nil {
		t.Fatalf("a client with the password over TLS: %v", err)
	}
	defer c.Close()
	if err := c.Provision(context.Background(), bus.Topology{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(validate.String(), password) || !strings.Contains(validate.String(), "configuration ok") {
		t.Errorf("-validate output:\n%s", validate.String())
	}
}

// connectWith connects as a service does: its --nats-* flags parsed from args and env.
func connectWith(t *testing.T, args []string, env map[string]string) (*bus.Conn, error) {
	t.Helper()
	f := config.NewFlagSet("client", func(k string) string { return env[k] })
	n := config.AddNATS(f)
	if err := f.Parse(args); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return bus.Connect(ctx, n.Bus("client", slog.New(slog.DiscardHandler)))
}

// TestNATSOnTheNetworkNeedsCredentialsOrConsent: `usagepipe nats` on a non-loopback address without
// --auth-*, or with routes beyond loopback, is refused (and so is its -validate), saying what to give; with
// --allow-anonymous it serves, and says after its ready line that it is open.
func TestNATSOnTheNetworkNeedsCredentialsOrConsent(t *testing.T) {
	noEnv := func(string) string { return "" }
	for _, args := range [][]string{
		{"--addr", "0.0.0.0:0"},
		{"--addr", "0.0.0.0:0", "-validate"},
		{"--addr", "127.0.0.1:0", "--auth-nkeys", "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4", "--cluster-addr", "0.0.0.0:0"},
	} {
		store := t.TempDir()
		err := runNATS(context.Background(), append(args, "--store", store), noEnv, io.Discard)
		for _, want := range []string{"without credentials", "--allow-anonymous", "--auth-"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("nats %v: want a refusal saying %q, have %v", args, want, err)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- runNATS(ctx, []string{"--addr", "0.0.0.0:0", "--store", t.TempDir(), "--allow-anonymous"}, noEnv, out)
	}()
	for !strings.Contains(out.String(), "warning: ") {
		select {
		case err := <-done:
			t.Fatalf("nats --allow-anonymous ended: %v\n%s", err, out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(out.String(), "\n"); !strings.HasPrefix(lines[0], "nats ready nats://0.0.0.0:") ||
		!strings.Contains(lines[1], `clients on host "0.0.0.0" need no authentication`) {
		t.Errorf("output:\n%s", out.String())
	}
}
