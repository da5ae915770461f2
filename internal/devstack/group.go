package devstack

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// group runs the stack's long-lived goroutines (services, simulator, observer). The first one to fail
// cancels the stack's context, so one broken service stops the whole stack instead of leaving it half alive.
type group struct {
	cancel   context.CancelFunc
	stopping <-chan struct{} // closed once the stack's context has ended
	wg       sync.WaitGroup
	mu       sync.Mutex
	errs     []error
}

// run starts fn; its error, if any, is named after the goroutine and ends the stack. context.Canceled once
// the stack is stopping is no error of fn's: it is how a goroutine still starting ends once another one
// failed (or the stack was stopped), and reporting it would name a second, innocent failure beside the real
// one.
func (g *group) run(name string, fn func() error) {
	g.wg.Go(func() {
		if err := fn(); err != nil && !(errors.Is(err, context.Canceled) && g.isStopping()) {
			g.mu.Lock()
			g.errs = append(g.errs, fmt.Errorf("%s: %w", name, err))
			g.mu.Unlock()
			g.cancel()
		}
	})
}

// isStopping reports whether the stack's context has ended.
func (g *group) isStopping() bool {
	select {
	case <-g.stopping:
		return true
	default:
		return false
	}
}

// wait returns once every goroutine has returned, with their errors.
func (g *group) wait() error {
	g.wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	return errors.Join(g.errs...)
}
