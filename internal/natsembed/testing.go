package natsembed

import "testing"

// StartTest starts a standalone JetStream server with a temporary store on a free port for the test t and shuts
// it down when the test ends. It fails the test if the server cannot start.
func StartTest(t testing.TB) *Server {
	t.Helper()
	s, err := Start(Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatalf("natsembed: %v", err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// StartTestCluster starts an n-node cluster with temporary stores for the test t and shuts it down at the end.
func StartTestCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	c, err := StartCluster(n, t.TempDir())
	if err != nil {
		t.Fatalf("natsembed: %v", err)
	}
	t.Cleanup(c.Shutdown)
	return c
}
