package bus

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/usagepipe/usagepipe/internal/natsembed"
	"github.com/usagepipe/usagepipe/internal/natsembed/natsembedtest"
)

// startAuthServer starts a server with the given authentication and TLS for the test.
func startAuthServer(t *testing.T, auth *natsembed.Auth, tls *natsembed.TLS) *natsembed.Server {
	t.Helper()
	s, err := natsembed.Start(natsembed.Options{StoreDir: t.TempDir(), Auth: auth, TLS: tls})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// TestRefusedCredentialsSayWhy: a server that refuses the credentials makes Connect fail at once with
// ErrRefused, the server's reason and what was presented (never the secret), not "connection closed".
func TestRefusedCredentialsSayWhy(t *testing.T) {
	const password, wrong = "hunter2-right-password", "hunter3-wrong-password"
	s := startAuthServer(t, &natsembed.Auth{Users: []natsembed.User{{Name: "bob", Password: password}}}, nil)
	tests := []struct {
		name, presented string
		cfg             Config
	}{
		{"none", "no credentials", Config{}},
		{"wrong password", `user "bob" and a password`, Config{User: "bob", Password: wrong}},
		{"token", "a token", Config{Token: wrong}},
		{"url user info", "user info in the URL", Config{URL: strings.Replace(s.URL(), "://", "://bob:"+wrong+"@", 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if cfg.URL == "" {
				cfg.URL = s.URL()
			}
			cfg.Log = quietLog()
			_, err := Connect(testContext(t), cfg)
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("want ErrRefused, have %v", err)
			}
			for _, want := range []string{"refused the credentials", "authorization violation", "presented " + tt.presented} {
				if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(want)) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if strings.Contains(err.Error(), wrong) {
				t.Errorf("error %q repeats the secret", err)
			}
		})
	}
	c, err := Connect(testContext(t), Config{URL: s.URL(), User: "bob", Password: password, Log: quietLog()})
	if err != nil {
		t.Fatalf("the right password: %v", err)
	}
	defer c.Close()
	if err := c.Provision(testContext(t), Topology{}); err != nil {
		t.Fatal(err)
	}
}

// TestTLSAndPassword: a client with the CA, a client certificate and the password talks to a server that
// requires all three; without the certificate or the CA it does not get in.
func TestTLSAndPassword(t *testing.T) {
	certs := natsembedtest.WriteCerts(t)
	s := startAuthServer(t, &natsembed.Auth{Users: []natsembed.User{{Name: "svc", Password: "tls-password"}}},
		&natsembed.TLS{CertFile: certs.ServerCert, KeyFile: certs.ServerKey, CAFile: certs.CA, Verify: true})
	good := Config{URL: s.URL(), User: "svc", Password: "tls-password", TLSCAFile: certs.CA,
		TLSCertFile: certs.ClientCert, TLSKeyFile: certs.ClientKey, Log: quietLog()}
	c, err := Connect(testContext(t), good)
	if err != nil {
		t.Fatalf("TLS + password: %v", err)
	}
	defer c.Close()
	if err := c.Provision(testContext(t), Topology{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(testContext(t), Msg{Subject: "usage.events.0", Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	noCert, noCA := good, good
	noCert.TLSCertFile, noCert.TLSKeyFile = "", ""
	noCA.TLSCAFile = ""
	for name, cfg := range map[string]Config{"no client certificate": noCert, "no CA": noCA} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := Connect(ctx, cfg)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "last error") {
			t.Errorf("%s: want a failure with the last TLS error, have %v", name, err)
		}
	}
}

// TestTokenAndNKey: a token server takes its token; an nkey server takes a client holding the seed.
func TestTokenAndNKey(t *testing.T) {
	tok := startAuthServer(t, &natsembed.Auth{Token: "s3cr3t-token"}, nil)
	c, err := Connect(testContext(t), Config{URL: tok.URL(), Token: "s3cr3t-token", Log: quietLog()})
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	c.Close()

	user, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := user.PublicKey()
	seed, _ := user.Seed()
	seedFile := filepath.Join(t.TempDir(), "user.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	nk := startAuthServer(t, &natsembed.Auth{NKeys: []string{pub}}, nil)
	c, err = Connect(testContext(t), Config{URL: nk.URL(), NKeySeedFile: seedFile, Log: quietLog()})
	if err != nil {
		t.Fatalf("nkey: %v", err)
	}
	c.Close()
}
