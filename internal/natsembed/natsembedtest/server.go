package natsembedtest

import (
	"testing"

	"github.com/usagepipe/usagepipe/internal/natsembed"
)

// Start starts a standalone JetStream server with a temporary store on a free port for the test t and shuts
// it down when the test ends. It fails the test if the server cannot start.
func Start(t testing.TB) *natsembed.Server {
	t.Helper()
	s, err := natsembed.Start(natsembed.Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatalf("natsembedtest: %v", err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// StartCluster starts an n-node cluster with temporary stores for the test t and shuts it down at the end.
func StartCluster(t testing.TB, n int) *natsembed.Cluster {
	t.Helper()
	c, err := natsembed.StartCluster(n, t.TempDir())
	if err != nil {
		t.Fatalf("natsembedtest: %v", err)
	}
	t.Cleanup(c.Shutdown)
	return c
}
