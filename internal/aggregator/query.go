package aggregator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregate"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// Current usage comes from a partition's owner: its runner answers requests on subjects.UsageQuery(p) over core
// NATS from its in-memory state, between two messages (the state is the runner's alone: a query enters the
// runner's loop through a channel). The answer is exact as of the last message applied, whose stream time is
// the time it is complete up to; for an open period it is the closed record to come if nothing else arrives.
// A partition without a runner (moving, or its owner down) has no responder: ErrNoOwner, never a guess.

// ErrNoOwner: no runner of the partition answered (no owner right now: it is moving, or no aggregator holds
// it). Retry in a few seconds.
var ErrNoOwner = errors.New("aggregator: the partition has no owner right now")

// UsageQuery asks a partition's owner for the aggregates of one subscription.
type UsageQuery struct {
	Subscription string `json:"subscription"`
}

// UsageAnswer is the owner's answer: the subscription's aggregates in its state, open and closed
// (aggregate.State.Usage), as of the last message it applied.
type UsageAnswer struct {
	Partition int                  `json:"partition"`
	Member    string               `json:"member"`
	Clock     time.Time            `json:"clock"`     // stream time of the last message applied: complete up to it
	Applied   uint64               `json:"applied"`   // its stream sequence
	CaughtUp  bool                 `json:"caught_up"` // false while the runner replays the backlog it started with
	Keys      []aggregate.KeyUsage `json:"keys"`
	Error     string               `json:"error,omitempty"` // the runner could not answer (e.g. busy)
}

// queryTimeout bounds how long a query waits for the runner's loop.
const queryTimeout = 2 * time.Second

// Requester models the one operation of internal/bus.Conn that QueryUsage uses.
type Requester interface {
	Request(ctx context.Context, subject string, data []byte) ([]byte, error)
}

// QueryUsage asks partition p's owner for the usage of subscription sub. ErrNoOwner when nobody answers.
func QueryUsage(ctx context.Context, conn Requester, p int, sub string) (UsageAnswer, error) {
	req, err := json.Marshal(UsageQuery{Subscription: sub})
	if err != nil {
		return UsageAnswer{}, fmt.Errorf("aggregator: usage query: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout+time.Second)
	defer cancel()
	data, err := conn.Request(ctx, subjects.UsageQuery(p), req)
	switch {
	case errors.Is(err, bus.ErrNoResponders):
		return UsageAnswer{}, fmt.Errorf("%w: partition %d (retry in a few seconds)", ErrNoOwner, p)
	case err != nil:
		return UsageAnswer{}, fmt.Errorf("aggregator: usage query to partition %d: %w", p, err)
	}
	var a UsageAnswer
	if err := json.Unmarshal(data, &a); err != nil {
		return UsageAnswer{}, fmt.Errorf("aggregator: usage answer of partition %d: %w", p, err)
	}
	if a.Error != "" {
		return a, fmt.Errorf("aggregator: partition %d: %s", p, a.Error)
	}
	return a, nil
}

// query is a usage query on its way into a runner's loop.
type query struct {
	sub   string
	reply chan UsageAnswer
}

// serveQueries answers usage queries for the runner's partition until the returned stop is called.
func (r *runner) serveQueries() (stop func(), err error) {
	done := make(chan struct{})
	stopServing, err := r.conn.Serve(subjects.UsageQuery(r.p), func(data []byte) []byte {
		return r.answerRequest(data, done)
	})
	if err != nil {
		return nil, fmt.Errorf("serve usage queries: %w", err)
	}
	return func() { close(done); stopServing() }, nil
}

// answerRequest hands a request to the runner's loop and encodes its answer (or why there is none).
func (r *runner) answerRequest(data []byte, done <-chan struct{}) []byte {
	a := UsageAnswer{Partition: r.p, Member: r.opts.MemberID}
	var q UsageQuery
	if err := json.Unmarshal(data, &q); err != nil || q.Subscription == "" {
		a.Error = "bad query: want {\"subscription\": \"…\"}"
		return encodeAnswer(a)
	}
	t := time.NewTimer(queryTimeout)
	defer t.Stop()
	qq := query{sub: q.Subscription, reply: make(chan UsageAnswer, 1)}
	select {
	case r.queries <- qq:
		select {
		case a = <-qq.reply:
		case <-t.C:
			a.Error = "the partition's runner did not answer in time"
		}
	case <-done:
		a.Error = "the partition's runner stopped"
	case <-t.C:
		a.Error = "the partition's runner is busy"
	}
	return encodeAnswer(a)
}

// answer reads the state; it runs in the runner's loop, between two messages.
func (r *runner) answer(q query) {
	q.reply <- UsageAnswer{Partition: r.p, Member: r.opts.MemberID, Clock: r.state.Clock(), Applied: r.applied,
		CaughtUp: r.applied >= r.catchUpTo, Keys: r.state.Usage(q.sub)}
}

func encodeAnswer(a UsageAnswer) []byte {
	b, err := json.Marshal(a)
	if err != nil {
		b, _ = json.Marshal(UsageAnswer{Partition: a.Partition, Member: a.Member, Error: "cannot encode the answer"})
	}
	return b
}
