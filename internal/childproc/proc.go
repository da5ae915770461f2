package childproc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Spec is what a Proc runs: a binary with its arguments and environment, its output appended to LogPath.
type Spec struct {
	Name    string // unique within a system, e.g. aggregator-1
	Kind    string // what it is: ingest, aggregator, submitter, nats, emulator
	Bin     string // path of the binary
	Args    []string
	Env     []string // the whole environment (see CleanEnv)
	LogPath string   // stdout and stderr, appended across restarts
}

// StartLine begins the line a Proc writes to its log before each start ("=== start 2 of nats-0 at …"), so a
// reader of the log can tell the runs of the process apart.
const StartLine = "=== start "

// Proc is one supervised child process: a worker, the emulator or a nats-server. It can be started,
// SIGKILLed (as a process group) and started again with the same command line; when it exits without having
// been killed it is restarted after a backoff (a crash). Safe for concurrent use.
type Proc struct {
	spec Spec

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

// New prepares a process; nothing runs before Start.
func New(s Spec) *Proc { return &Proc{spec: s, quit: make(chan struct{})} }

// Name, Kind and LogPath are those of the Spec.
func (p *Proc) Name() string    { return p.spec.Name }
func (p *Proc) Kind() string    { return p.spec.Kind }
func (p *Proc) LogPath() string { return p.spec.LogPath }

// Crash restarts back off from crashBackoff up to crashBackoffMax.
const (
	crashBackoff    = 500 * time.Millisecond
	crashBackoffMax = 5 * time.Second
)

// Start starts the process unless it is running or closed.
func (p *Proc) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil || p.closing {
		return nil
	}
	log, err := os.OpenFile(p.spec.LogPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("childproc: %s: %w", p.spec.Name, err)
	}
	p.starts++
	fmt.Fprintf(log, "%s%d of %s at %s\n", StartLine, p.starts, p.spec.Name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.spec.Bin, p.spec.Args...)
	cmd.Env, cmd.Stdout, cmd.Stderr, cmd.SysProcAttr = p.spec.Env, log, log, childAttr()
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("childproc: start %s: %w", p.spec.Name, err)
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	go p.reap(cmd, log, p.exited)
	return nil
}

// reap waits for the process to end and restarts it after a backoff if nobody killed it.
func (p *Proc) reap(cmd *exec.Cmd, log *os.File, exited chan struct{}) {
	err := cmd.Wait()
	fmt.Fprintf(log, "=== %s exited at %s: %v\n", p.spec.Name, time.Now().Format(time.RFC3339Nano), err)
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
		_ = p.Start() // a failed start leaves it down; the next Start or the Stats show it
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

// Kill SIGKILLs the running process group and waits until it is reaped. It reports whether there was a
// process to kill.
func (p *Proc) Kill() bool {
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

// Close stops the process for good: SIGKILL of its group, and no restart ever after.
func (p *Proc) Close() {
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

// Running reports whether the process is up.
func (p *Proc) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil
}

// Pid is the process id of the running process, 0 while it is down.
func (p *Proc) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Stats is a snapshot of a process's counters.
type Stats struct {
	Name, Kind             string
	Starts, Kills, Crashes int
	LastExit               string
}

// Stats returns the process's counters.
func (p *Proc) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{Name: p.spec.Name, Kind: p.spec.Kind, Starts: p.starts, Kills: p.kills, Crashes: p.crashes, LastExit: p.lastExit}
}
