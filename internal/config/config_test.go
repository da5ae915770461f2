package config_test

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/config"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestPrecedenceFlagOverEnvOverDefault(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		want       string
		wantSource string
	}{
		{"default", nil, nil, "def", config.SourceDefault},
		{"env", nil, map[string]string{"USAGEPIPE_HTTP_ADDR": "from-env"}, "from-env", config.SourceEnv},
		{"empty env is unset", nil, map[string]string{"USAGEPIPE_HTTP_ADDR": ""}, "def", config.SourceDefault},
		{"flag wins", []string{"--http-addr", "from-flag"}, map[string]string{"USAGEPIPE_HTTP_ADDR": "from-env"}, "from-flag", config.SourceFlag},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := config.NewFlagSet("test", envOf(tt.env))
			addr := f.String("http-addr", "def", "")
			if err := f.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if want, have := tt.want, *addr; want != have {
				t.Errorf("value: want %q, have %q", want, have)
			}
			if want, have := tt.wantSource, f.Source("http-addr"); want != have {
				t.Errorf("source: want %q, have %q", want, have)
			}
		})
	}
}

func TestEnvValuesAreTypedAndErrorsNameTheVariable(t *testing.T) {
	f := config.NewFlagSet("test", envOf(map[string]string{"USAGEPIPE_TIMEOUT": "3s", "USAGEPIPE_MAX_BATCH": "many"}))
	timeout := f.Duration("timeout", time.Second, "")
	f.Int("max-batch", 1000, "")
	err := f.Parse(nil)
	if err == nil || !strings.Contains(err.Error(), "USAGEPIPE_MAX_BATCH") {
		t.Fatalf("want an error naming USAGEPIPE_MAX_BATCH, have %v", err)
	}
	if want, have := 3*time.Second, *timeout; want != have {
		t.Errorf("timeout: want %v, have %v", want, have)
	}
}

func TestEnvName(t *testing.T) {
	if want, have := "USAGEPIPE_NATS_TLS_CA", config.EnvName("nats-tls-ca"); want != have {
		t.Errorf("want %v, have %v", want, have)
	}
}

func TestParseRejectsPositionalArguments(t *testing.T) {
	f := config.NewFlagSet("test", envOf(nil))
	if err := f.Parse([]string{"stray"}); err == nil {
		t.Fatal("want an error for a positional argument")
	}
}

func TestHelpReturnsErrHelp(t *testing.T) {
	f := config.NewFlagSet("test", envOf(nil))
	f.SetOutput(io.Discard)
	if err := f.Parse([]string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("want flag.ErrHelp, have %v", err)
	}
}

// --version prints the build on the flag set's output and stops the command as -h does (ErrHelp); a
// USAGEPIPE_VERSION variable does not, and neither -validate nor Describe lists it.
func TestVersionPrintsTheBuildAndStops(t *testing.T) {
	f := config.NewFlagSet("ingest", envOf(nil))
	var out bytes.Buffer
	f.SetOutput(&out)
	err := f.Parse([]string{"--version", "--unused-after-version=1"})
	if err == nil || !strings.Contains(err.Error(), "unused-after-version") {
		t.Fatalf("an unknown flag after --version: %v, want the parse error", err)
	}
	f = config.NewFlagSet("ingest", envOf(nil))
	out.Reset()
	f.SetOutput(&out)
	if err := f.Parse([]string{"--version"}); !errors.Is(err, config.ErrVersion) || !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("Parse(--version) = %v, want ErrVersion wrapping flag.ErrHelp", err)
	}
	if line := out.String(); !strings.HasPrefix(line, "ingest version ") || !strings.Contains(line, " commit ") {
		t.Errorf("--version printed %q", line)
	}
	f = config.NewFlagSet("ingest", envOf(map[string]string{"USAGEPIPE_VERSION": "true"}))
	if err := f.Parse(nil); err != nil {
		t.Fatalf("USAGEPIPE_VERSION set: %v", err)
	}
	out.Reset()
	f.Describe(&out)
	if strings.Contains(out.String(), "version") {
		t.Errorf("Describe lists --version:\n%s", out.String())
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	const password, token, urlPassword, urlToken = "hunter2-password", "s3cr3t-token", "url-pa/ss?w#rd", "url-t0ken"
	f := config.NewFlagSet("test", envOf(map[string]string{"USAGEPIPE_NATS_TOKEN": token}))
	var out bytes.Buffer
	f.SetOutput(&out)
	n := config.AddNATS(f)
	connect := f.String("connect-url", "", "")
	if err := f.Parse([]string{"--nats-password", password, "--nats-url", "nats://bob:" + urlPassword + "@a:4222, nats://b:4222",
		"--connect-url", "https://" + urlToken + "@api.example/public/v1"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(*connect, urlToken) || !strings.Contains(n.URL, urlPassword) {
		t.Fatal("the URLs were not parsed")
	}
	if n.Password != password || n.Token != token {
		t.Fatalf("secrets not parsed: password %v, token %v", n.Password == password, n.Token == token)
	}
	f.PrintDefaults()
	f.Describe(&out)
	if err := f.Validate(&out, n.Check()); err != nil {
		out.WriteString(err.Error())
	}
	out.WriteString(n.Bus("ingest", nil).String())
	for _, secret := range []string{password, token, urlPassword, urlToken, "bob"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("output contains a secret:\n%s", out.String())
		}
	}
	for _, want := range []string{`--nats-password="[REDACTED]" (flag)`, `--nats-url="nats://[REDACTED]@a:4222,nats://b:4222" (flag)`,
		`--connect-url="https://[REDACTED]@api.example/public/v1" (flag)`, "--nats-token excludes"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("Describe does not show %s:\n%s", want, out.String())
		}
	}
}

func TestNATSFlagsProduceBusConfigAndTopology(t *testing.T) {
	f := config.NewFlagSet("test", envOf(map[string]string{"USAGEPIPE_REPLICAS": "3", "USAGEPIPE_NATS_URL": "nats://a:4222,nats://b:4222",
		"USAGEPIPE_EVENTS_MAX_AGE": "720h"}))
	n := config.AddNATS(f)
	if err := f.Parse([]string{"--partitions", "8", "--nats-creds", "/etc/u.creds", "--events-dedup-window", "30m"}); err != nil {
		t.Fatal(err)
	}
	bc := n.Bus("ingest", nil)
	if bc.URL != "nats://a:4222,nats://b:4222" || bc.Name != "ingest" || bc.CredsFile != "/etc/u.creds" || bc.Partitions != 8 {
		t.Errorf("bus config: %+v", bc)
	}
	top := n.Topology()
	if top.Partitions != 8 || top.Replicas != 3 || top.DedupWindow != 30*time.Minute || top.EventsMaxAge != 720*time.Hour {
		t.Errorf("topology: %+v", top)
	}
	if err := n.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
}

func TestNATSCheckReportsEveryProblem(t *testing.T) {
	f := config.NewFlagSet("test", envOf(nil))
	n := config.AddNATS(f)
	if err := f.Parse([]string{"--partitions", "0", "--replicas", "9", "--nats-tls-cert", "c.pem", "--events-max-age", "5m"}); err != nil {
		t.Fatal(err)
	}
	err := n.Check()
	for _, want := range []string{"--partitions", "--replicas", "--nats-tls-key", "--events-dedup-window"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check: want a problem about %s, have %v", want, err)
		}
	}
	var out bytes.Buffer
	if err := f.Validate(&out, err); err == nil || !strings.Contains(out.String(), "configuration invalid") {
		t.Errorf("Validate: want an error and the verdict, have %v, %q", err, out.String())
	}
}

func TestBytesFlag(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"5MiB", 5 << 20, true}, {"512KiB", 512 << 10, true}, {"1000", 1000, true}, {"2 GiB", 2 << 30, true},
		{"-1", 0, false}, {"5MB", 0, false}, {"", 0, false},
	}
	for _, tt := range tests {
		f := config.NewFlagSet("test", envOf(nil))
		f.SetOutput(io.Discard)
		var n int64
		f.Bytes(&n, "max-body", 1, "")
		err := f.Parse([]string{"--max-body=" + tt.in})
		if (err == nil) != tt.ok || (tt.ok && n != tt.want) {
			t.Errorf("%q: want %d ok=%v, have %d err=%v", tt.in, tt.want, tt.ok, n, err)
		}
	}
}

// A secret flag reads its value from the file USAGEPIPE_<NAME>_FILE names (a Compose secret), which excludes
// the value given otherwise; a flag set with its own <name>-file flag keeps that variable for it.
func TestSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "password")
	if err := os.WriteFile(path, []byte("from-the-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	parse := func(args []string, env map[string]string, own bool) (*config.FlagSet, *config.NATS, error) {
		f := config.NewFlagSet("test", envOf(env))
		f.SetOutput(io.Discard)
		n := config.AddNATS(f)
		if own {
			f.String("nats-password-file", "", "its own file flag")
		}
		return f, n, f.Parse(args)
	}
	f, n, err := parse(nil, map[string]string{"USAGEPIPE_NATS_PASSWORD_FILE": path}, false)
	if err != nil || n.Password != "from-the-file" || f.Source("nats-password") != config.SourceFile {
		t.Fatalf("from the file: %v, password %q, source %s", err, n.Password, f.Source("nats-password"))
	}
	var out bytes.Buffer
	f.Describe(&out)
	if strings.Contains(out.String(), "from-the-file") || !strings.Contains(out.String(), `--nats-password="[REDACTED]" (file)`) {
		t.Errorf("Describe:\n%s", out.String())
	}
	if _, _, err := parse([]string{"--nats-password", "x"}, map[string]string{"USAGEPIPE_NATS_PASSWORD_FILE": path}, false); err == nil ||
		!strings.Contains(err.Error(), "exclude each other") {
		t.Errorf("a flag and the file: %v", err)
	}
	for _, bad := range []string{filepath.Join(dir, "missing"), filepath.Join(dir, "empty")} {
		_ = os.WriteFile(filepath.Join(dir, "empty"), []byte("\n"), 0o600)
		if _, _, err := parse(nil, map[string]string{"USAGEPIPE_NATS_PASSWORD_FILE": bad}, false); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	if _, n, err := parse(nil, map[string]string{"USAGEPIPE_NATS_PASSWORD_FILE": path}, true); err != nil || n.Password != "" {
		t.Errorf("with its own -file flag, the variable is that flag's: %v, password %q", err, n.Password)
	}
}
