package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/nats-io/nkeys"

	"github.com/usagepipe/usagepipe/internal/aggregator"
	"github.com/usagepipe/usagepipe/internal/devstack"
	"github.com/usagepipe/usagepipe/internal/ingest"
	"github.com/usagepipe/usagepipe/internal/natsembed"
	"github.com/usagepipe/usagepipe/internal/submitter"
)

// The secrets of TestNoSecretInAnyOutput, one per way in; each is distinct, so a leak names its way in.
const (
	secIngestNATSURL   = "ingest-nats-url-pw-6c1e"      // user info of ingest's --nats-url
	secAggNATSFlag     = "agg-nats-flag-pw-93d0"        // aggregator's --nats-password
	secSubNATSEnv      = "sub-nats-env-pw-27fa"         // submitter's USAGEPIPE_NATS_PASSWORD
	secRecNATSEnvURL   = "rec-nats-env-url-pw-b4a8"     // user info of reconcile's USAGEPIPE_NATS_URL
	secWrongNATSURL    = "wrong-nats-url-pw-5f02"       // a wrong password in a --nats-url
	secNATSToken       = "nats-token-flag-e7c3"         // --nats-token
	secConnectKey      = "SU-101-202-303:conn-key-0d9b" // --connect-api-key, the emulator's --api-key, reconcile's env
	secProviderKey     = "SU-404-505-606:prov-key-a17c" // the emulator's USAGEPIPE_PROVIDER_API_KEY
	secConnectURL      = "connect-url-pw-38e6"          // user info of --connect-url
	secConnectURLToken = "connect-url-token-c2d4"       // token-style user info of --connect-url
	secIngestKeyFlag   = "ingest-key-flag-7b15"         // ingest's --api-keys
	secIngestKeyEnv    = "ingest-key-env-d6e9"          // ingest's USAGEPIPE_API_KEYS
	secIngestKeyFile   = "ingest-key-file-41f3"         // a line of ingest's --api-keys-file
	secWrongBearer     = "wrong-bearer-key-8a60"        // a key a producer sends that ingest does not know
	secOTLPHeader      = "otlp-header-key-f3b7"         // OTEL_EXPORTER_OTLP_HEADERS, read by the OTLP exporter
	secDevKey          = "SU-707-808-909:dev-key-59e2"  // dev's USAGEPIPE_CONNECT_API_KEY
	secNATSServerPW    = "nats-server-pw-0c8d"          // usagepipe nats's USAGEPIPE_AUTH_PASSWORD
	secNATSServerTok   = "nats-server-token-6e4f"       // a line of usagepipe nats's --auth-token-file
	secHealthcheckURL  = "healthcheck-url-pw-93a5"      // user info of healthcheck's URL
	secCredsFile       = "creds-file-jwt-c7d1"          // inside a --nats-creds file the server does not take
	secOperatorNATS    = "operator-nats-url-pw-2e91"    // user info of dlq's and parked's --nats-url
	secOperatorKey     = "operator-key-secret-4d2a9f"   // the submitter's and dev's USAGEPIPE_OPERATOR_KEYS
)

// TestNoSecretInAnyOutput feeds distinct secrets through every way in (flags, USAGEPIPE_* variables, a URL's
// user info, key and password files, the OTLP exporter's headers, a producer's bearer key) to every command
// (-validate, -h, startup, a refused connection, running services), collects every output (stdout, logs,
// returned errors, the spans the services export over OTLP, /metrics, /healthz, /readyz, dev's log file) and
// looks for every secret in every output.
func TestNoSecretInAnyOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the three services, the emulator and dev: skipped with -short")
	}
	e := newLeakEnv(t)
	e.validateAndHelp()
	e.refusedConnections()
	e.runningServices()
	e.otherCommands()
	e.check()
}

// leakEnv holds the servers the commands talk to and every output collected.
type leakEnv struct {
	t         *testing.T
	nats      *natsembed.Server
	catalog   string
	keysFile  string
	seedFile  string // an nkey seed the server takes
	seed      string
	credsFile string // a creds file it does not
	otlp      *otlpReceiver

	mu      sync.Mutex
	outputs map[string]string // what → text
}

func newLeakEnv(t *testing.T) *leakEnv {
	e := &leakEnv{t: t, outputs: map[string]string{}, otlp: startOTLPReceiver(t)}
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-otlp-key="+secOTLPHeader)
	user, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := user.PublicKey()
	seed, _ := user.Seed()
	e.seed = string(seed)
	e.nats, err = natsembed.Start(natsembed.Options{StoreDir: t.TempDir(), Auth: &natsembed.Auth{Users: []natsembed.User{
		{Name: "ingest", Password: secIngestNATSURL}, {Name: "aggregator", Password: secAggNATSFlag},
		{Name: "submitter", Password: secSubNATSEnv}, {Name: "reconcile", Password: secRecNATSEnvURL},
		{Name: "operator", Password: secOperatorNATS},
	}, NKeys: []string{pub}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.nats.Shutdown)
	dir := t.TempDir()
	e.catalog, e.keysFile = filepath.Join(dir, "catalog.json"), filepath.Join(dir, "keys")
	e.seedFile, e.credsFile = filepath.Join(dir, "user.nk"), filepath.Join(dir, "user.creds")
	writeFile(t, e.seedFile, e.seed+"\n")
	writeFile(t, e.credsFile, "-----BEGIN NATS USER JWT-----\n"+secCredsFile+"\n------END NATS USER JWT------\n")
	c, err := devstack.SampleCatalogs()
	if err == nil {
		c, err = c.WithFixedPeriods(2*time.Second, time.Second)
	}
	var b []byte
	if err == nil {
		b, err = c.Pipeline.MarshalFile()
	}
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, e.catalog, string(b))
	writeFile(t, e.keysFile, "# producer keys (each may write any source)\n"+secIngestKeyFile+":*\n")
	return e
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// add records an output.
func (e *leakEnv) add(what, text string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.outputs[what] += text
}

// output is what was recorded of what.
func (e *leakEnv) output(what string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.outputs[what]
}

// natsURL is the server's URL with user info.
func (e *leakEnv) natsURL(user, password string) string {
	return strings.Replace(e.nats.URL(), "://", "://"+user+":"+password+"@", 1)
}

// runFunc is the shape of every command's run function.
type runFunc func(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error

// invocation is one command line with its environment.
type invocation struct {
	name string
	run  runFunc
	args []string
	env  map[string]string
}

// runOnce runs inv to its end (ctx bounds it) and records its output and error.
func (e *leakEnv) runOnce(ctx context.Context, inv invocation) error {
	var out syncBuffer
	err := inv.run(ctx, inv.args, envFunc(inv.env), &out)
	e.add(inv.name, out.String())
	if err != nil {
		e.add(inv.name+" error", err.Error())
	}
	return err
}

func envFunc(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// services are the three services' command lines with every secret of theirs; extra flags are appended.
func (e *leakEnv) services(connectURL string) []invocation {
	common := []string{"--catalog", e.catalog, "--partitions", "2"}
	return []invocation{
		{"ingest", ingest.Run, append([]string{"--nats-url", e.natsURL("ingest", secIngestNATSURL),
			"--api-keys", secIngestKeyFlag + ":*", "--api-keys-file", e.keysFile, "--http-addr", "127.0.0.1:0"}, common...),
			map[string]string{}},
		{"aggregator", aggregator.Run, append([]string{"--nats-url", e.nats.URL(), "--nats-user", "aggregator",
			"--nats-password", secAggNATSFlag, "--metrics-addr", "127.0.0.1:0", "--member-id", "leak-1"}, common...),
			map[string]string{}},
		{"submitter", submitter.Run, append([]string{"--nats-url", e.nats.URL(), "--nats-user", "submitter",
			"--connect-url", connectURL, "--connect-api-key", secConnectKey, "--metrics-addr", "127.0.0.1:0",
			"--scan-interval", "1s", "--follow-max-interval", "1s", "--retry-max-interval", "1s",
			"--supplement-delay", "1s", "--member-id", "leak-s1", "--operator-addr", "127.0.0.1:0"}, common...),
			map[string]string{"USAGEPIPE_NATS_PASSWORD": secSubNATSEnv, "USAGEPIPE_OPERATOR_KEYS": "alice=" + secOperatorKey}},
	}
}

// validateAndHelp runs every command with -validate and with -h, secrets given every way.
func (e *leakEnv) validateAndHelp() {
	tokenFile := filepath.Join(e.t.TempDir(), "token")
	writeFile(e.t, tokenFile, secNATSServerTok+"\n")
	invs := e.services("http://cu:" + secConnectURL + "@127.0.0.1:1/public/v1")
	invs[0].env["USAGEPIPE_API_KEYS"] = secIngestKeyEnv + ":*"
	invs[0].args = append(invs[0].args, "--nats-token", secNATSToken) // also refused: token with user info
	invs = append(invs,
		invocation{"submitter token-url", submitter.Run, []string{"--catalog", e.catalog,
			"--connect-url", "https://" + secConnectURLToken + "@api.example.test/public/v1"},
			map[string]string{"USAGEPIPE_CONNECT_API_KEY": secConnectKey}},
		invocation{"reconcile", runReconcile, []string{"--catalog", e.catalog, "--connect-url", "http://127.0.0.1:1/public/v1"},
			map[string]string{"USAGEPIPE_CONNECT_API_KEY": secConnectKey, "USAGEPIPE_NATS_URL": e.natsURL("reconcile", secRecNATSEnvURL)}},
		invocation{"emulator", runEmulator, []string{"--api-key", secConnectKey},
			map[string]string{"USAGEPIPE_PROVIDER_API_KEY": secProviderKey}},
		invocation{"nats user", runNATS, []string{"--store", e.t.TempDir(), "--auth-user", "u"},
			map[string]string{"USAGEPIPE_AUTH_PASSWORD": secNATSServerPW}},
		invocation{"nats token", runNATS, []string{"--store", e.t.TempDir(), "--auth-token-file", tokenFile}, nil},
		invocation{"dev", runDev, nil, map[string]string{"USAGEPIPE_CONNECT_API_KEY": secDevKey,
			"USAGEPIPE_OPERATOR_KEYS": "alice=" + secOperatorKey}},
	)
	invs = append(invs, e.operatorCommands("http://cu:"+secConnectURL+"@127.0.0.1:1/public/v1")...)
	for _, name := range []string{"explain", "usage", "status"} {
		invs = append(invs, invocation{name, commands[name].run, nil, map[string]string{"USAGEPIPE_CONNECT_API_KEY": secConnectKey,
			"USAGEPIPE_NATS_URL": e.natsURL("reconcile", secRecNATSEnvURL)}})
	}
	invs = append(invs, invocation{"console", runConsole, []string{"--addr", "0.0.0.0:0"}, map[string]string{
		"USAGEPIPE_CONNECT_API_KEY": secConnectKey, "USAGEPIPE_OPERATOR_KEYS": "alice=" + secOperatorKey,
		"USAGEPIPE_NATS_URL": e.natsURL("reconcile", secRecNATSEnvURL)}})
	for _, inv := range invs {
		base := inv
		for _, flag := range []string{"-validate", "-h"} {
			inv := base
			inv.name, inv.args = base.name+" "+flag, append(append([]string(nil), base.args...), flag)
			_ = e.runOnce(context.Background(), inv)
		}
	}
	for _, what := range []string{"ingest -validate", "aggregator -validate", "submitter -validate", "emulator -validate",
		"dlq -validate", "parked -validate"} {
		if out := e.output(what); !strings.Contains(out, "[REDACTED]") {
			e.t.Errorf("%s shows no redacted secret: the test did not give it any?\n%s", what, out)
		}
	}
}

// operatorCommands are usagepipe dlq and parked with the NATS password in the URL's user info and the
// Connect key in the environment (the Connect URL given).
func (e *leakEnv) operatorCommands(connectURL string) []invocation {
	env := map[string]string{"USAGEPIPE_CONNECT_API_KEY": secConnectKey}
	common := []string{"--catalog", e.catalog, "--nats-url", e.natsURL("operator", secOperatorNATS), "--connect-url", connectURL}
	return []invocation{
		{"dlq", runDLQ, append([]string{"list"}, common...), env},
		{"parked", runParked, append([]string{"list"}, common...), env},
	}
}

// refusedConnections runs services whose NATS credentials the server refuses: the error and the log say so
// without the secret.
func (e *leakEnv) refusedConnections() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, inv := range []invocation{
		{"ingest refused", ingest.Run, []string{"--catalog", e.catalog, "--http-addr", "127.0.0.1:0",
			"--nats-url", e.natsURL("ingest", secWrongNATSURL), "--api-keys", secIngestKeyFlag}, nil},
		{"aggregator refused", aggregator.Run, []string{"--catalog", e.catalog, "--metrics-addr", "",
			"--nats-url", e.nats.URL(), "--nats-token", secNATSToken}, nil},
	} {
		if err := e.runOnce(ctx, inv); err == nil || !strings.Contains(err.Error(), "refused the credentials") {
			e.t.Errorf("%s: want a refusal of the credentials, have %v", inv.name, err)
		}
	}
	short, cancelShort := context.WithTimeout(ctx, 3*time.Second) // a bad creds file is retried until ctx ends
	defer cancelShort()
	if e.runOnce(short, invocation{"submitter bad creds", submitter.Run, []string{"--catalog", e.catalog,
		"--metrics-addr", "", "--nats-url", e.nats.URL(), "--nats-creds", e.credsFile, "--connect-url", "http://127.0.0.1:1/public/v1"},
		map[string]string{"USAGEPIPE_CONNECT_API_KEY": secConnectKey}}) == nil {
		e.t.Error("a bad creds file: want an error")
	}
}

// runningServices runs the emulator and the three services until a usage file is accepted, sends events
// with a good and a wrong key, reads every ops endpoint, runs reconcile, then stops them.
func (e *leakEnv) runningServices() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	emulator := e.start(ctx, &wg, invocation{"emulator run", runEmulator, []string{"--addr", "127.0.0.1:0",
		"--events-catalog", e.catalog, "--auto-assets", "--api-key", secConnectKey, "--verbose"},
		map[string]string{"USAGEPIPE_PROVIDER_API_KEY": secProviderKey}}, "emulator ready ")
	connectURL := strings.Fields(strings.TrimPrefix(emulator, "emulator ready "))[0]
	otel := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": e.otlp.URL, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}
	addrs := map[string]string{}
	for _, inv := range e.services(connectURL) {
		inv.name += " run"
		for k, v := range otel {
			inv.env[k] = v
		}
		line := e.start(ctx, &wg, inv, "listening")
		addrs[inv.name] = jsonField(e.t, line, "addr")
	}
	ingestURL := "http://" + addrs["ingest run"]
	e.postEvents(ingestURL)
	waitUntil(e.t, "an accepted usage file in the emulator", 90*time.Second, func() bool {
		return strings.Contains(e.get(connectURL+"/usage/files", "ApiKey "+secConnectKey), `"accepted"`)
	})
	for name, addr := range addrs {
		for _, path := range []string{"/metrics", "/healthz", "/readyz"} {
			e.add(name+" GET "+path, e.get("http://"+addr+path, ""))
		}
	}
	e.reconcile(ctx, connectURL)
	for _, inv := range e.operatorCommands(connectURL) {
		inv.name += " run"
		if err := e.runOnce(ctx, inv); err != nil {
			e.t.Errorf("%s: %v", inv.name, err)
		}
	}
	e.operatorReads(ctx, connectURL)
	cancel()
	wg.Wait()
	spans, raw := e.otlp.texts()
	e.add("spans (OTLP)", spans)
	e.add("OTLP export bodies", raw)
	if !strings.Contains(spans, "url.full="+connectURL) || !strings.Contains(spans, "POST /v1/events") {
		e.t.Errorf("the spans lack the Connect client's or ingest's: the exporter was not exercised?\n%.3000s", spans)
	}
}

// reconcile runs reconcile twice against the running system: with the NATS password in its URL's user info,
// and with an nkey seed file.
func (e *leakEnv) reconcile(ctx context.Context, connectURL string) {
	args := []string{"--catalog", e.catalog, "--partitions", "2", "--connect-url", connectURL, "--settle", "0s"}
	for _, inv := range []invocation{
		{"reconcile run", runReconcile, args, map[string]string{"USAGEPIPE_CONNECT_API_KEY": secConnectKey,
			"USAGEPIPE_NATS_URL": e.natsURL("reconcile", secRecNATSEnvURL)}},
		{"reconcile nkey run", runReconcile, append(args, "--nats-url", e.nats.URL()),
			map[string]string{"USAGEPIPE_CONNECT_API_KEY": secConnectKey, "USAGEPIPE_NATS_NKEY": e.seedFile}},
	} {
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		_ = e.runOnce(rctx, inv)
		cancel()
		if out := e.output(inv.name); !strings.Contains(out, "USAGE_AGG: ") { // it read the stream: NATS let it in
			e.t.Errorf("%s did not report:\n%s%s", inv.name, out, e.output(inv.name+" error"))
		}
	}
}

// operatorReads runs status and explain against the running system, with the Connect key and a NATS URL
// with a password.
func (e *leakEnv) operatorReads(ctx context.Context, connectURL string) {
	env := map[string]string{"USAGEPIPE_CONNECT_API_KEY": secConnectKey, "USAGEPIPE_NATS_URL": e.natsURL("reconcile", secRecNATSEnvURL)}
	for _, c := range []struct {
		inv  invocation
		want string
	}{
		{invocation{"status run", runStatus, []string{"--partitions", "2"}, env}, "PARTITIONS"},
		{invocation{"explain run", runExplain, []string{"--partitions", "2", "--source", "/leak", "--id", "never",
			"--connect-url", connectURL}, env}, "not found"},
	} {
		inv := c.inv
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		_ = e.runOnce(rctx, inv)
		cancel()
		if out := e.output(inv.name); !strings.Contains(out, c.want) {
			e.t.Errorf("%s did not answer:\n%s%s", inv.name, out, e.output(inv.name+" error"))
		}
	}
}

// start runs inv until ctx ends and returns the first output line that holds ready.
func (e *leakEnv) start(ctx context.Context, wg *sync.WaitGroup, inv invocation, ready string) string {
	e.t.Helper()
	out := &syncBuffer{}
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		err := inv.run(ctx, inv.args, envFunc(inv.env), out)
		e.add(inv.name, out.String())
		if err != nil {
			e.add(inv.name+" error", err.Error())
		}
	}()
	deadline := time.Now().Add(time.Minute)
	for {
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.Contains(line, ready) {
				return line
			}
		}
		select {
		case <-done:
			e.t.Fatalf("%s ended before %q:\n%s", inv.name, ready, out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: no %q within a minute:\n%s", inv.name, ready, out.String())
		}
	}
}

// postEvents sends one event with a configured key (accepted) and one with a wrong key (refused).
func (e *leakEnv) postEvents(ingestURL string) {
	c, err := devstack.SampleCatalogs()
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := json.Marshal(c.ExampleEvent("leak-1", time.Now()))
	for key, want := range map[string]int{secIngestKeyFile: http.StatusOK, secWrongBearer: http.StatusUnauthorized} {
		req, _ := http.NewRequest(http.MethodPost, ingestURL+"/v1/events", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/cloudevents+json")
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			e.t.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		e.add("ingest answer", string(answer))
		if resp.StatusCode != want {
			e.t.Fatalf("POST with a key: %s, want %d: %s", resp.Status, want, answer)
		}
	}
}

// get returns a GET's body (and status), with an Authorization header when auth is set.
func (e *leakEnv) get(url, auth string) string {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.Status + "\n" + string(b)
}

// otherCommands runs dev with its own key until it prints a status line, usagepipe nats with a password until
// it is ready, and healthcheck on URLs with user info that fail.
func (e *leakEnv) otherCommands() {
	data := filepath.Join(e.t.TempDir(), "data")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	e.start(ctx, &wg, invocation{"dev run", runDev, []string{"--data", data, "--ingest-addr", "127.0.0.1:0",
		"--emulator-addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--nats-addr", "127.0.0.1:0", "--operator-addr", "127.0.0.1:0", "--console-addr", "127.0.0.1:0",
		"--status-every", "100ms"}, map[string]string{"USAGEPIPE_CONNECT_API_KEY": secDevKey}}, "files none yet")
	e.start(ctx, &wg, invocation{"nats run", runNATS, []string{"--addr", "127.0.0.1:0", "--store", e.t.TempDir(),
		"--auth-user", "u"}, map[string]string{"USAGEPIPE_AUTH_PASSWORD": secNATSServerPW}}, "nats ready")
	cancel()
	wg.Wait()
	log, err := os.ReadFile(filepath.Join(data, "usagepipe.log"))
	if err != nil || len(log) == 0 {
		e.t.Errorf("dev log: %v, %d bytes", err, len(log))
	}
	e.add("dev log file", string(log))

	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }))
	defer down.Close()
	for _, url := range []string{strings.Replace(down.URL, "://", "://u:"+secHealthcheckURL+"@", 1),
		strings.Replace(down.URL, "://", "://"+secHealthcheckURL+"@", 1), "http://u:" + secHealthcheckURL + "@127.0.0.1:1/"} {
		if e.runOnce(context.Background(), invocation{"healthcheck", runHealthcheck, []string{url}, nil}) == nil {
			e.t.Errorf("healthcheck %s: want a failure", url)
		}
	}
}

// check looks for every secret in every output.
func (e *leakEnv) check() {
	secrets := []string{e.seed, secCredsFile, secIngestNATSURL, secAggNATSFlag, secSubNATSEnv, secRecNATSEnvURL, secWrongNATSURL,
		secNATSToken, secConnectKey, secProviderKey, secConnectURL, secConnectURLToken, secIngestKeyFlag,
		secIngestKeyEnv, secIngestKeyFile, secWrongBearer, secOTLPHeader, secDevKey, secNATSServerPW,
		secNATSServerTok, secHealthcheckURL, secOperatorKey}
	e.mu.Lock()
	defer e.mu.Unlock()
	if dir := os.Getenv("LEAK_TEST_DUMP"); dir != "" { // look at what was searched
		for what, text := range e.outputs {
			_ = os.WriteFile(filepath.Join(dir, strings.ReplaceAll(what, "/", "_")+".txt"), []byte(text), 0o644)
		}
	}
	for what, text := range e.outputs {
		for _, s := range secrets {
			if i := strings.Index(text, s); i >= 0 {
				e.t.Errorf("secret %q in the output of %s: …%s…", s, what, text[max(0, i-200):min(len(text), i+len(s)+50)])
			}
		}
	}
	if len(e.outputs) < 40 || !e.otlp.sawHeader(secOTLPHeader) {
		e.t.Errorf("%d outputs, OTLP header seen %v: the test did not run what it claims", len(e.outputs), e.otlp.sawHeader(secOTLPHeader))
	}
}

// jsonField is a string field of a JSON log line.
func jsonField(t *testing.T, line, field string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("log line %q: %v", line, err)
	}
	s, _ := m[field].(string)
	return s
}

// waitUntil polls cond until it holds or the deadline passes.
func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// otlpReceiver is a real OTLP/HTTP trace receiver: it keeps every exported span as text (name, status,
// attributes, events, resource) and the headers of the export requests.
type otlpReceiver struct {
	*httptest.Server
	mu      sync.Mutex
	spans   []string
	raw     []string // the export requests' bodies, as they came
	headers []string
}

func startOTLPReceiver(t *testing.T) *otlpReceiver {
	r := &otlpReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *otlpReceiver) serve(w http.ResponseWriter, req *http.Request) {
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, _ := io.ReadAll(body)
	var export coltrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(b, &export); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.headers = append(r.headers, req.Header.Get("X-Otlp-Key"))
	r.raw = append(r.raw, string(b))
	for _, rs := range export.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				r.spans = append(r.spans, spanText(rs.GetResource(), s))
			}
		}
	}
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
}

// spanText writes a span's name, status, attributes, events and links, and its resource's attributes, one
// key=value a line.
func spanText(res *resourcepb.Resource, s *tracepb.Span) string {
	lines := []string{"span " + s.GetName(), "status " + s.GetStatus().GetMessage()}
	lines = appendAttrs(lines, "resource ", res.GetAttributes())
	lines = appendAttrs(lines, "", s.GetAttributes())
	for _, ev := range s.GetEvents() {
		lines = appendAttrs(append(lines, "event "+ev.GetName()), "event ", ev.GetAttributes())
	}
	for _, l := range s.GetLinks() {
		lines = appendAttrs(lines, "link ", l.GetAttributes())
	}
	return strings.Join(lines, "\n")
}

func appendAttrs(lines []string, prefix string, attrs []*commonpb.KeyValue) []string {
	for _, kv := range attrs {
		v := kv.GetValue()
		text := v.GetStringValue()
		if text == "" {
			text = v.String()
		}
		lines = append(lines, prefix+kv.GetKey()+"="+text)
	}
	return lines
}

// texts returns the spans as text and the raw export bodies.
func (r *otlpReceiver) texts() (spans, raw string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.spans, "\n---\n"), strings.Join(r.raw, "\n")
}

func (r *otlpReceiver) sawHeader(v string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, h := range r.headers {
		if h == v {
			return true
		}
	}
	return false
}
