package aggregator

import (
	"context"
	"strconv"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// tickTimeout bounds the publication of one tick (a tick that fails is simply tried again later).
const tickTimeout = 2 * time.Second

// maybeTick publishes a tick to usage.events.<p> when the runner has caught up, the partition has been idle
// for a commit interval, a period is due by the wall clock, and the last tick is TickInterval old. The tick's
// stream timestamp (the server's clock) is what closes the period, so the fold stays a function of the
// stream; its Nats-Msg-Id tick-<p>-<unix second> lets the server drop a second owner's tick of the same second.
func (r *runner) maybeTick(ctx context.Context, now time.Time) {
	if r.opts.NoTicks || r.applied < r.catchUpTo || now.Sub(r.lastMsgAt) < r.opts.CommitInterval ||
		now.Sub(r.lastTick) < r.opts.TickInterval {
		return
	}
	due := r.state.NextDue()
	if due.IsZero() || now.Before(due) {
		return
	}
	r.lastTick = now
	ctx, cancel := context.WithTimeout(ctx, tickTimeout)
	defer cancel()
	m := bus.Msg{Subject: subjects.Events(r.p), Header: bus.Header{
		events.HeaderKind: []string{events.KindTick},
		bus.HeaderMsgID:   []string{"tick-" + strconv.Itoa(r.p) + "-" + strconv.FormatInt(now.Unix(), 10)},
	}}
	if _, err := r.conn.Publish(ctx, m); err != nil {
		r.log.WarnContext(ctx, "tick failed", "err", err)
		return
	}
	r.ins.ticks.Add(ctx, 1)
}
