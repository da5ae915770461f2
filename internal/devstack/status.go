package devstack

import (
	"context"
	"fmt"
	"io"
	"time"
)

// PrintStatus writes Summary's line every interval until the stack begins to shut down (its context ended or
// a service failed), and a last one then.
func (s *Stack) PrintStatus(w io.Writer, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stopping:
			fmt.Fprintln(w, s.Summary(context.Background()))
			return
		case <-t.C:
			fmt.Fprintln(w, s.Summary(context.Background()))
		}
	}
}
