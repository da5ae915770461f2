package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestChaosFlagsAndEnvironment(t *testing.T) {
	env := map[string]string{"USAGEPIPE_SEED": "42", "USAGEPIPE_FAULT_RATE": "0.1"}
	var out bytes.Buffer
	c, validateOnly, err := chaosConfig([]string{"--events", "1000", "--cluster", "3", "--kill-every", "-1s", "--keep"},
		func(k string) string { return env[k] }, &out)
	if err != nil || validateOnly {
		t.Fatalf("err %v, validate %v", err, validateOnly)
	}
	if c.Events != 1000 || c.Cluster != 3 || c.KillEvery != -time.Second || !c.Keep || c.Seed != 42 || c.FaultRate != 0.1 ||
		c.Subscriptions != 2000 || c.Out != &out {
		t.Errorf("config: %+v", c)
	}
}

func TestChaosValidateRejectsBadSettings(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"chaos", "-validate", "--cluster", "2", "--fault-rate", "2"}, func(string) string { return "" }, &out)
	if err == nil || !strings.Contains(err.Error(), "cluster 2") || !strings.Contains(err.Error(), "fault rate 2") {
		t.Errorf("want both problems reported, have %v", err)
	}
	if !strings.Contains(out.String(), "chaos: configuration invalid") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestReconcileNeedsKeyAndCatalog(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"reconcile", "-validate"}, func(string) string { return "" }, &out)
	if err == nil || !strings.Contains(err.Error(), "--connect-api-key") || !strings.Contains(err.Error(), "--catalog") {
		t.Errorf("want the missing key and catalog reported, have %v", err)
	}
}
