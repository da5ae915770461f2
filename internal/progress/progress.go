// Package progress writes the progress lines of a long-running command (usagepipe chaos, bench pipeline):
// each line is prefixed with the seconds since the command began, "[   12.3s] text".
//
// Concurrency: a Log is safe for concurrent use; its lines never interleave.
package progress

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Log writes progress lines to one writer.
type Log struct {
	out   io.Writer
	began time.Time
	mu    sync.Mutex // serialises lines
}

// New returns a Log writing to out, counting from now.
func New(out io.Writer) *Log { return &Log{out: out, began: time.Now()} }

// Began is when the Log was made: the start of the command.
func (l *Log) Began() time.Time { return l.began }

// Printf writes one line, prefixed with the seconds since Began.
func (l *Log) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.out, "[%7.1fs] %s\n", time.Since(l.began).Seconds(), fmt.Sprintf(format, args...))
}
