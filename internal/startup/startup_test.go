package startup_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/config"
	"github.com/usagepipe/usagepipe/internal/natsembed/natsembedtest"
	"github.com/usagepipe/usagepipe/internal/startup"
)

func noEnv(string) string { return "" }

// demo is a service whose Serve returns serveErr, and whose one flag --broken makes its configuration invalid.
func demo(uses startup.Uses, serveErr error, served *startup.Env) startup.Command {
	var broken bool
	return startup.Command{
		Name: "demo", Uses: uses,
		Flags: func(fs *config.FlagSet) { fs.BoolVar(&broken, "broken", false, "make the configuration invalid") },
		Check: func() error {
			if broken {
				return errors.New("--broken is set")
			}
			return nil
		},
		Warnings: func() []string { return []string{"demo advice"} },
		Serve: func(_ context.Context, env startup.Env) error {
			if served != nil {
				*served = env
			}
			return serveErr
		},
	}
}

// TestRunNamesTheServiceOnceInEveryError: whatever stage fails, the error names the service exactly once,
// whether the failing code named it already or not.
func TestRunNamesTheServiceOnceInEveryError(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	nats := natsembedtest.Start(t)
	opsUses := startup.Uses{Telemetry: true, NATS: true, Provision: true, OpsAddr: ":0"}
	tests := []struct {
		name string
		cmd  startup.Command
		args []string
		want string
	}{
		{"unknown flag", demo(startup.Uses{}, nil, nil), []string{"--nope"}, "flag provided but not defined"},
		{"stray argument", demo(startup.Uses{}, nil, nil), []string{"stray"}, "unexpected arguments"},
		{"invalid configuration", demo(startup.Uses{}, nil, nil), []string{"--broken"}, "invalid configuration: --broken is set"},
		{"-validate of an invalid configuration", demo(startup.Uses{}, nil, nil), []string{"--broken", "-validate"}, "invalid configuration"},
		{"invalid shared flags", demo(opsUses, nil, nil), []string{"--partitions", "0"}, "--partitions 0"},
		{"ops listener taken", demo(opsUses, nil, nil), []string{"--nats-url", nats.URL(), "--metrics-addr", taken.Addr().String()}, "ops listen"},
		{"serve error", demo(startup.Uses{}, errors.New("boom"), nil), nil, "boom"},
		{"serve error naming the service", demo(startup.Uses{}, errors.New("demo: boom"), nil), nil, "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := startup.Run(context.Background(), tt.cmd, tt.args, noEnv, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want an error with %q, have %v", tt.want, err)
			}
			if n := strings.Count(err.Error(), "demo:"); n != 1 || !strings.HasPrefix(err.Error(), "demo: ") {
				t.Errorf("want the error to start with %q and name it once, have %d times: %v", "demo: ", n, err)
			}
		})
	}
}

// TestRunGoesThroughTheStagesInOrder: a service using every stage serves with a provisioned connection and
// an ops server whose probes ask that connection; -h and -validate start nothing.
func TestRunGoesThroughTheStagesInOrder(t *testing.T) {
	nats := natsembedtest.Start(t)
	uses := startup.Uses{Telemetry: true, NATS: true, Provision: true, OpsAddr: ":9"}
	var env startup.Env
	var out bytes.Buffer
	cmd := demo(uses, nil, &env)
	serve := cmd.Serve
	var readyz int
	cmd.Serve = func(ctx context.Context, e startup.Env) error {
		readyz = status(t, "http://"+e.OpsAddr+"/readyz")
		return serve(ctx, e)
	}
	args := []string{"--nats-url", nats.URL(), "--metrics-addr", "127.0.0.1:0", "--partitions", "3"}
	if err := startup.Run(context.Background(), cmd, args, noEnv, &out); err != nil {
		t.Fatal(err)
	}
	if env.Tel == nil || env.Conn == nil || env.NATS == nil || env.NATS.Partitions != 3 {
		t.Fatalf("Serve was given %+v", env)
	}
	if readyz != http.StatusOK {
		t.Errorf("/readyz of a provisioned connection: want 200, have %d", readyz)
	}
	if env.Conn.Healthy(context.Background()) == nil {
		t.Error("the connection is still open after Run returned")
	}

	out.Reset()
	env = startup.Env{}
	if err := startup.Run(context.Background(), demo(uses, nil, &env), []string{"-validate"}, noEnv, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"warning: demo advice", `--metrics-addr=":9" (default)`, `--provision="true" (default)`, "demo: configuration ok"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-validate output lacks %q:\n%s", want, out.String())
		}
	}
	if env.Started != nil {
		t.Error("-validate served")
	}
	out.Reset()
	if err := startup.Run(context.Background(), demo(startup.Uses{}, nil, &env), []string{"-h"}, noEnv, &out); err != nil {
		t.Fatalf("-h: %v", err)
	}
	if !strings.Contains(out.String(), "-broken") || strings.Contains(out.String(), "-nats-url") || env.Started != nil {
		t.Errorf("-h of a service without NATS: want its own flags only and nothing served:\n%s", out.String())
	}
}

// TestRunShowsTheBuild: --version prints the build and starts nothing, even with an invalid configuration;
// the telemetry stage serves it as usagepipe_build_info.
func TestRunShowsTheBuild(t *testing.T) {
	var env startup.Env
	var out bytes.Buffer
	uses := startup.Uses{Telemetry: true, OpsAddr: ":0"}
	if err := startup.Run(context.Background(), demo(uses, nil, &env), []string{"--broken", "--version"}, noEnv, &out); err != nil {
		t.Fatalf("--version: %v", err)
	}
	if !strings.HasPrefix(out.String(), "demo version ") || !strings.Contains(out.String(), " commit ") || env.Started != nil {
		t.Errorf("--version printed %q (served: %v); want the build and nothing started", out.String(), env.Started != nil)
	}
	cmd := demo(uses, nil, &env)
	var metrics string
	cmd.Serve = func(_ context.Context, e startup.Env) error {
		resp, err := http.Get("http://" + e.OpsAddr + "/metrics")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		metrics = string(b)
		return err
	}
	if err := startup.Run(context.Background(), cmd, []string{"--metrics-addr", "127.0.0.1:0"}, noEnv, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(metrics, `usagepipe_build_info{`) || !strings.Contains(metrics, `service="demo"`) {
		t.Errorf("/metrics has no usagepipe_build_info of the service:\n%s", metrics)
	}
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// mainArgsVar makes the test binary run startup.Main over the demo service with these arguments instead of
// the tests (TestMainPrintsTheErrorAsItIs).
const mainArgsVar = "STARTUP_TEST_MAIN_ARGS"

func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(mainArgsVar); ok {
		os.Args = append([]string{"demo"}, strings.Fields(args)...)
		startup.Main(func(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
			return startup.Run(ctx, demo(startup.Uses{}, nil, nil), args, getenv, stdout)
		})
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestMainPrintsTheErrorAsItIs: a binary whose start fails exits 1 and prints one line naming the service once.
func TestMainPrintsTheErrorAsItIs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append(os.Environ(), mainArgsVar+"=--broken")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("want exit status 1, have %v\n%s", err, stderr.String())
	}
	want := fmt.Sprintln("demo: invalid configuration: --broken is set")
	if stderr.String() != want {
		t.Errorf("stderr: want %q, have %q", want, stderr.String())
	}
}
