package pipeline

import (
	"bufio"
	"fmt"
	"os"
	"sync"
	"time"
)

// requestLog writes one CSV line per request (requests.csv in the run directory), to find out after a run
// when latency was lost and where: scheduled send (Unix ms), how late it was sent, its latency from the
// schedule (ms), and its HTTP status (0: transport error or timeout). Safe for concurrent use; nil writes
// nothing.
type requestLog struct {
	mu sync.Mutex
	f  *os.File
	w  *bufio.Writer
}

func openRequestLog(path string) (*requestLog, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	l := &requestLog{f: f, w: bufio.NewWriterSize(f, 64<<10)}
	fmt.Fprintln(l.w, "scheduled_unix_ms,send_lag_ms,latency_ms,status")
	return l, nil
}

func (l *requestLog) write(at, sent, done time.Time, status int, err error) {
	if l == nil {
		return
	}
	if err != nil {
		status = 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%d,%.2f,%.2f,%d\n", at.UnixMilli(), ms(sent.Sub(at)), ms(done.Sub(at)), status)
}

func (l *requestLog) close() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.w.Flush()
	_ = l.f.Close()
}
