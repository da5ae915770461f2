package aggregator

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
)

// TestAFailingStartNamesTheAggregatorOnce: an invalid configuration and a start that fails after connecting
// (the metrics address is taken) both end in an error that starts with "aggregator: " and names it once.
func TestAFailingStartNamesTheAggregatorOnce(t *testing.T) {
	env := newTestEnv(t, 2)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, args := range [][]string{
		{"--catalog", env.catalogPath, "--lease-ttl", "-1s"},
		{"-validate"},
		{"stray-argument"},
		{"--catalog", env.catalogPath, "--nats-url", env.srv.URL(), "--partitions", "2", "--metrics-addr", taken.Addr().String()},
	} {
		err := Run(context.Background(), args, func(string) string { return "" }, io.Discard)
		if err == nil || !strings.HasPrefix(err.Error(), "aggregator: ") || strings.Count(err.Error(), "aggregator:") != 1 {
			t.Errorf("%v: want an error naming the aggregator once, have %v", args, err)
		}
	}
}
