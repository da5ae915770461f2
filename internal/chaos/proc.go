package chaos

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// proc is one supervised child process: a worker, the emulator or a nats-server. It can be started, SIGKILLed
// (as a process group) and started again with the same command line; when it exits without having been
// killed it is restarted after a backoff (a crash). Safe for concurrent use.
type proc struct {
	name    string
	kind    string // ingest, aggregator, submitter, nats, emulator
	bin     string
	args    []string
	env     []string
	logPath string

	mu       sync.Mutex
	cmd      *exec.Cmd     // nil while down
	exited   chan struct{} // closed when the current process has been reaped
	expected bool          // the current process is being killed on purpose
	closing  bool          // shut down for good: no more starts
	quit     chan struct{} // closed with closing, to cut a crash backoff short
	starts   int
	kills    int
	crashes  int
	lastExit string
}

// Crash restarts back off from crashBackoff up to crashBackoffMax.
const (
	crashBackoff    = 500 * time.Millisecond
	crashBackoffMax = 5 * time.Second
)

// start starts the process unless it is running or closing.
func (p *proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil || p.closing {
		return nil
	}
	log, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("chaos: %s: %w", p.name, err)
	}
	p.starts++
	fmt.Fprintf(log, "=== chaos: start %d of %s at %s\n", p.starts, p.name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env, cmd.Stdout, cmd.Stderr, cmd.SysProcAttr = p.env, log, log, childAttr()
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("chaos: start %s: %w", p.name, err)
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	go p.reap(cmd, log, p.exited)
	return nil
}

// reap waits for the process to end and restarts it after a backoff if nobody killed it.
func (p *proc) reap(cmd *exec.Cmd, log *os.File, exited chan struct{}) {
	err := cmd.Wait()
	fmt.Fprintf(log, "=== chaos: %s exited at %s: %v\n", p.name, time.Now().Format(time.RFC3339Nano), err)
	log.Close()
	p.mu.Lock()
	p.cmd, p.lastExit = nil, exitText(err)
	crashed := !p.expected && !p.closing
	p.expected = false
	if crashed {
		p.crashes++
	}
	backoff := min(crashBackoff<<min(p.crashes, 4), crashBackoffMax)
	p.mu.Unlock()
	close(exited)
	if !crashed {
		return
	}
	select {
	case <-time.After(backoff):
		_ = p.start() // a failed start leaves it down; the killer's next restart or the summary shows it
	case <-p.quit:
	}
}

func exitText(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ProcessState.String()
	}
	if err != nil {
		return err.Error()
	}
	return "exit status 0"
}

// kill SIGKILLs the running process group and waits until it is reaped. It reports whether there was a
// process to kill.
func (p *proc) kill() bool {
	p.mu.Lock()
	if p.cmd == nil || p.closing {
		p.mu.Unlock()
		return false
	}
	p.expected = true
	pid, exited := p.cmd.Process.Pid, p.exited
	p.kills++
	p.mu.Unlock()
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	<-exited
	return true
}

// close stops the process for good: SIGKILL of its group, and no restart ever after.
func (p *proc) close() {
	p.mu.Lock()
	if !p.closing {
		p.closing = true
		close(p.quit)
	}
	var exited chan struct{}
	if p.cmd != nil {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		exited = p.exited
	}
	p.mu.Unlock()
	if exited != nil {
		<-exited
	}
}

// running reports whether the process is up.
func (p *proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil
}

// procStats is a snapshot of a process's counters.
type procStats struct {
	name, kind             string
	starts, kills, crashes int
	lastExit               string
}

func (p *proc) stats() procStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return procStats{name: p.name, kind: p.kind, starts: p.starts, kills: p.kills, crashes: p.crashes, lastExit: p.lastExit}
}
