package deploy

import (
	"context"
	"crypto/tls"
	"flag"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/config"
)

// natsCredentials are the variables every worker reaches NATS with: an nkey seed and the CA of the servers.
var natsCredentials = []string{"USAGEPIPE_NATS_NKEY", "USAGEPIPE_NATS_TLS_CA"}

// Compose loads with its secrets, each a file that exists and that some service mounts. The usagepipe services
// get every credential through them: no secret flag's value is inline (only its _FILE variable, naming a
// mounted secret), every path under /run/secrets a service names is a secret it mounts, and every worker reaches
// NATS with the nkey seed and the CA of the servers.
func TestCredentialsComeFromComposeSecrets(t *testing.T) {
	c := loadCompose(t)
	if c.Name != "usagepipe" || len(c.Secrets) < 8 {
		t.Errorf("project %q with secrets %v", c.Name, c.Secrets)
	}
	used := map[string]bool{}
	for name, s := range c.Services {
		for _, file := range s.Secrets {
			used[file] = true
		}
		if s.binary() == "" {
			continue
		}
		flags := binaryFlags(t, s.binary())
		for v, value := range s.Environment {
			checkCredentialVariable(t, name, s, flags, v, value)
		}
		for _, a := range s.args() {
			if strings.HasPrefix(a, secretsDir) {
				if _, ok := s.Secrets[a]; !ok {
					t.Errorf("service %s: argument %s is not a secret it mounts", name, a)
				}
			}
		}
	}
	for secret, file := range c.Secrets {
		if _, err := os.Stat(file); err != nil || !used[file] {
			t.Errorf("secret %s: file %s (%v), mounted by a service: %v", secret, file, err, used[file])
		}
	}
	for _, r := range workers {
		for _, name := range byRole(c, r) {
			for _, v := range natsCredentials {
				if c.Services[name].env(v) == "" {
					t.Errorf("service %s: no %s", name, v)
				}
			}
		}
	}
}

func checkCredentialVariable(t *testing.T, name string, s service, flags map[string]flagSpec, v, value string) {
	t.Helper()
	for flag, spec := range flags {
		if spec.secret && v == config.EnvName(flag) {
			t.Errorf("service %s: %s holds the secret --%s inline; give it as %s, a secret file", name, v, flag, config.SecretFileEnv(flag))
		}
	}
	if strings.HasPrefix(value, secretsDir) {
		if _, ok := s.Secrets[value]; !ok {
			t.Errorf("service %s: %s=%s is not a secret it mounts", name, v, value)
		}
	}
}

// The NATS nodes' configuration, run by the nats-server library compose's image is built from (the image tag
// is go.mod's version: TestThirdPartyImagesArePinned) with a node's command line and its secrets, requires TLS
// and the nkey user: a worker's settings connect; without the seed, or without TLS, nothing does. Routes use
// mutual TLS.
func TestNATSNodesRequireTLSAndTheNKeyUser(t *testing.T) {
	c := loadCompose(t)
	name := byRole(c, roleNATS)[0]
	node := c.Services[name]
	opts := natsNodeOptions(t, node)
	if opts.Cluster.TLSConfig == nil || opts.Cluster.TLSConfig.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Errorf("%s: routes without mutual TLS: %+v", name, opts.Cluster.TLSConfig)
	}
	if opts.TLSConfig == nil || len(opts.Nkeys) != 1 || opts.Nkeys[0].Nkey != node.env(natsUserNKeyEnv) {
		t.Fatalf("%s: TLS %v, nkey users %v", name, opts.TLSConfig != nil, opts.Nkeys)
	}
	opts.Cluster, opts.Routes = server.ClusterOpts{}, nil // alone: a JetStream cluster needs its routes to start
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	defer srv.Shutdown()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("the NATS node did not start")
	}
	url := "nats://localhost:" + strconv.Itoa(srv.Addr().(*net.TCPAddr).Port) // the name the certificate holds
	worker := c.Services[byRole(c, roleAggregator)[0]]
	good := bus.Config{URL: url, Name: "deploy-test", NKeySeedFile: worker.hostFile(t, worker.env("USAGEPIPE_NATS_NKEY")),
		TLSCAFile: worker.hostFile(t, worker.env("USAGEPIPE_NATS_TLS_CA")), Log: slog.New(slog.DiscardHandler)}
	noSeed, noTLS := good, good
	noSeed.NKeySeedFile, noTLS.TLSCAFile = "", ""
	for _, tc := range []struct {
		what string
		cfg  bus.Config
		ok   bool
	}{{"the worker's settings", good, true}, {"without the nkey seed", noSeed, false}, {"without the CA", noTLS, false}} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		conn, err := bus.Connect(ctx, tc.cfg)
		cancel()
		if (err == nil) != tc.ok {
			t.Errorf("%s: connect error %v, want success %v", tc.what, err, tc.ok)
		}
		if err == nil {
			conn.Close()
		}
	}
}

// natsNodeOptions are the options nats-server builds from the node's command line, with the files of the
// container (its configuration, its secrets) replaced by theirs here, and its client, monitoring and store
// settings made local.
func natsNodeOptions(t *testing.T, node service) *server.Options {
	t.Helper()
	t.Setenv(natsUserNKeyEnv, node.env(natsUserNKeyEnv))
	conf := readFile(t, filepath.Join("nats", "nats.conf"))
	for path, file := range node.Secrets {
		conf = []byte(strings.ReplaceAll(string(conf), `"`+path+`"`, strconv.Quote(file)))
	}
	confPath := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(confPath, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	args := slices.Clone(node.Command)
	if i := slices.Index(args, "-c"); i < 0 || !slices.ContainsFunc(node.Volumes, func(v string) bool {
		return strings.HasSuffix(v, ":"+args[i+1]) && strings.HasPrefix(v, "./nats/nats.conf:")
	}) {
		t.Fatalf("the node's command %v does not load ./nats/nats.conf (volumes %v)", args, node.Volumes)
	} else {
		args[i+1] = confPath
	}
	fs := flag.NewFlagSet("nats-server", flag.ContinueOnError)
	opts, err := server.ConfigureOptions(fs, args, func() {}, func() {}, func() {})
	if err != nil {
		t.Fatalf("nats-server %v: %v", args, err)
	}
	opts.Host, opts.Port, opts.HTTPPort, opts.StoreDir = "127.0.0.1", -1, -1, t.TempDir()
	opts.NoSigs, opts.NoLog = true, true
	return opts
}
