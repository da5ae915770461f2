package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestHelpOfEveryCommandSucceeds: -h prints a command's usage and exits 0 (main exits 1 only when run
// returns an error), for every command, those that do not handle flag.ErrHelp themselves included. bench
// takes a benchmark name first: its own -h and its benchmarks' -h are asked.
func TestHelpOfEveryCommandSucceeds(t *testing.T) {
	for name := range commands {
		args := [][]string{{name, "-h"}}
		switch name {
		case "bench":
			args = [][]string{{name, "-h"}, {name, "ingest", "-h"}, {name, "aggregator", "-h"}, {name, "submitter", "-h"}, {name, "explain", "-h"}}
		case "dlq":
			args = [][]string{{name, "-h"}, {name, "list", "-h"}, {name, "show", "-h"}, {name, "replay", "-h"}}
		case "parked":
			args = [][]string{{name, "-h"}, {name, "list", "-h"}, {name, "show", "-h"}, {name, "retry", "-h"},
				{name, "resubmit", "-h"}, {name, "abandon", "-h"}}
		}
		for _, a := range args {
			var out bytes.Buffer
			if err := run(context.Background(), a, func(string) string { return "" }, &out); err != nil {
				t.Errorf("usagepipe %s: %v", strings.Join(a, " "), err)
			}
			if !strings.Contains(out.String(), "  -") && !strings.Contains(out.String(), "usage:") {
				t.Errorf("usagepipe %s printed no usage:\n%s", strings.Join(a, " "), out.String())
			}
		}
	}
}

func TestNATSHelpIsNoError(t *testing.T) {
	var out bytes.Buffer
	if err := runNATS(context.Background(), []string{"-h"}, func(string) string { return "" }, &out); err != nil {
		t.Errorf("nats -h: %v", err)
	}
	if !strings.Contains(out.String(), "-store") {
		t.Errorf("nats -h does not list --store:\n%s", out.String())
	}
}
