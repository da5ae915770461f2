package deploy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"
)

// devSecrets is the directory of compose's development placeholders (compose.yaml: USAGEPIPE_SECRETS).
const devSecrets = "dev-secrets"

// regenerate rewrites the development TLS material and nkey: go test ./deploy -run TestDevSecrets -regenerate.
var regenerate = flag.Bool("regenerate", false, "rewrite deploy/dev-secrets' certificates and nkey seed")

// devCertLife is how long regenerated development certificates stay valid.
const devCertLife = 10 * 365 * 24 * time.Hour

// The development secrets are consistent: the CA signs the NATS servers' certificate, which names every NATS
// node of compose.yaml (and localhost), serves both ends of a route (server and client auth), matches its key and
// is valid for at least another year; the nkey seed is the user whose public key the NATS nodes accept.
func TestDevSecretsAreConsistent(t *testing.T) {
	c := loadCompose(t)
	nodes := byRole(c, roleNATS)
	if *regenerate {
		writeDevSecrets(t, append(nodes, "localhost"))
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(devSecrets, "nats-server.pem"), filepath.Join(devSecrets, "nats-server-key.pem"))
	if err != nil {
		t.Fatalf("server certificate and key: %v", err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(readFile(t, filepath.Join(devSecrets, "nats-ca.pem"))) {
		t.Fatal("nats-ca.pem holds no certificate")
	}
	for _, host := range append(nodes, "localhost") {
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, CurrentTime: time.Now().Add(365 * 24 * time.Hour),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}})
		if err != nil {
			t.Errorf("the server certificate for %s, a year from now: %v", host, err)
		}
	}
	seed, err := nkeys.FromSeed([]byte(strings.TrimSpace(string(readFile(t, filepath.Join(devSecrets, "nats-user.nk"))))))
	if err != nil {
		t.Fatalf("nats-user.nk: %v", err)
	}
	public, _ := seed.PublicKey()
	for _, name := range nodes {
		if have := c.Services[name].env(natsUserNKeyEnv); have != public {
			t.Errorf("%s accepts the nkey %q, the seed's user is %s", name, have, public)
		}
	}
}

// natsUserNKeyEnv is the NATS nodes' variable holding the public nkey of usagepipe's user (deploy/nats/nats.conf).
const natsUserNKeyEnv = "USAGEPIPE_NATS_USER_NKEY"

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeDevSecrets writes a new CA, the NATS servers' certificate for hosts, and a new user nkey seed; the
// public key it prints goes into compose.yaml (USAGEPIPE_NATS_USER_NKEY's default).
func writeDevSecrets(t *testing.T, hosts []string) {
	ca, caKey := devCert(t, nil, nil, "usagepipe development CA (not for production)", func(c *x509.Certificate) {
		c.IsCA, c.KeyUsage, c.BasicConstraintsValid = true, x509.KeyUsageCertSign, true
	})
	srv, srvKey := devCert(t, ca, caKey, "usagepipe NATS (development)", func(c *x509.Certificate) {
		c.DNSNames = slices.Clone(hosts)
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	})
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	writeDevPEM(t, "nats-ca.pem", "CERTIFICATE", ca.Raw)
	writeDevPEM(t, "nats-server.pem", "CERTIFICATE", srv.Raw)
	writeDevPEM(t, "nats-server-key.pem", "EC PRIVATE KEY", keyDER)
	user, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := user.Seed()
	public, _ := user.PublicKey()
	if err := os.WriteFile(filepath.Join(devSecrets, "nats-user.nk"), append(seed, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("new user nkey: set %s's default in compose.yaml to %s", natsUserNKeyEnv, public)
}

func devCert(t *testing.T, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, name string,
	shape func(*x509.Certificate)) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(devCertLife), KeyUsage: x509.KeyUsageDigitalSignature}
	shape(tmpl)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func writeDevPEM(t *testing.T, name, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(devSecrets, name), pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}
