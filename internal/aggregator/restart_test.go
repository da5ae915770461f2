package aggregator

import (
	"testing"
	"time"
)

// TestNATSServerRestart restarts the JetStream server while a worker follows the stream: after it reconnects,
// the worker's output must equal that of a worker that never saw the restart.
func TestNATSServerRestart(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("long: server restart and reconnects")
	}
	env := newTestEnv(t, 4)
	stop := startWorker(t, env.conn, env.testOptions("survivor"))
	in := newInput(env, 99, 20)
	for i := range 30 {
		if i == 12 {
			if err := env.srv.Restart(); err != nil {
				t.Fatal(err)
			}
		}
		in.round(i)
		time.Sleep(100 * time.Millisecond)
	}
	in.finish()
	waitCaughtUp(t, env.conn, env.partitions, 90*time.Second)
	stop()
	out := readOutputs(t, env.conn)
	checkNoDuplicates(t, out)
	checkTotals(t, in, out)
	compareOutputs(t, referenceOutputs(t, env), out, env.partitions)
}
