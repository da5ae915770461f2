package pipeline

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestQuickDefaultsAndExplicitFlags(t *testing.T) {
	env := map[string]string{"USAGEPIPE_SOAK": "2m"}
	getenv := func(k string) string { return env[k] }
	c, _, err := parseFlags(QuickConfig(), []string{"--quick", "--step", "20s"}, getenv, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	q := QuickConfig()
	if c.StepDuration != 20*time.Second || c.Soak != 2*time.Minute || c.Period != q.Period || c.Subscriptions != q.Subscriptions {
		t.Errorf("quick with --step 20s and USAGEPIPE_SOAK=2m: %+v", c.Config)
	}
	if err := c.Check(); err != nil {
		t.Errorf("the quick configuration: %v", err)
	}
	if err := DefaultConfig.Check(); err != nil {
		t.Errorf("the default configuration: %v", err)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	var out bytes.Buffer
	err := Command(context.Background(), []string{"-validate", "--step-factor", "1", "--duplicates", "2", "--period", "1500ms"},
		func(string) string { return "" }, &out)
	for _, want := range []string{"step factor 1", "duplicate share 2", "period 1.5s"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q reported, have %v", want, err)
		}
	}
}
