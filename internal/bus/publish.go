package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// Publish stores one message and returns its PubAck; see PublishBatch for the retry contract.
func (c *Conn) Publish(ctx context.Context, m Msg) (PubAck, error) {
	acks, err := c.PublishBatch(ctx, []Msg{m})
	if err != nil {
		return PubAck{}, err
	}
	return acks[0], nil
}

// PublishBatch publishes every message asynchronously and returns their PubAcks in order once all are stored.
// A message without a Nats-Msg-Id header gets a random one so that its retries are de-duplicated. Every
// future is checked: one that failed in a retryable way (disconnect, ack timeout, no responders, 503,
// "duplicate message id is in process") is republished with the same Nats-Msg-Id, with backoff, until it is
// acknowledged or ctx ends. A non-retryable server rejection (e.g. message too large) ends the call with an
// error. On error no PubAcks are returned, but some messages may be stored: republishing them with the same
// ids within the duplicate window is safe.
//
// In-flight publishes are bounded over all callers (publishWindow); PublishBatch is safe for concurrent use.
func (c *Conn) PublishBatch(ctx context.Context, msgs []Msg) ([]PubAck, error) {
	nms, err := publishMsgs(msgs)
	if err != nil {
		return nil, fmt.Errorf("bus: publish: %w", err)
	}
	acks := make([]PubAck, len(msgs))
	todo := make([]int, len(msgs))
	for i := range todo {
		todo[i] = i
	}
	wait := newRetryWait()
	for attempt := 1; ; attempt++ {
		failed, lastErr, err := c.publishRound(ctx, nms, todo, acks)
		if err != nil {
			return nil, fmt.Errorf("bus: publish %d messages: %w", len(msgs), err)
		}
		if len(failed) == 0 {
			return acks, nil
		}
		level := slog.LevelDebug
		if attempt%10 == 0 { // still failing after several seconds: worth seeing
			level = slog.LevelWarn
		}
		c.log.Log(ctx, level, "bus: republishing", "count", len(failed), "attempt", attempt, "err", lastErr)
		if err := wait.sleep(ctx); err != nil {
			return nil, fmt.Errorf("bus: publish %d messages (%d unacknowledged, last error %v): %w",
				len(msgs), len(failed), lastErr, err)
		}
		todo = failed
	}
}

// publishMsgs converts and validates msgs, giving each a Nats-Msg-Id.
func publishMsgs(msgs []Msg) ([]*nats.Msg, error) {
	nms := make([]*nats.Msg, len(msgs))
	for i, m := range msgs {
		if m.Subject == "" {
			return nil, fmt.Errorf("message %d has no subject: %w", i, ErrInvalid)
		}
		nm := m.natsMsg()
		if nm.Header.Get(HeaderMsgID) == "" {
			nm.Header.Set(HeaderMsgID, nuid.Next())
		}
		nms[i] = nm
	}
	return nms, nil
}

// inflight is one of the caller's async publishes awaiting its future.
type inflight struct {
	idx int
	fut jetstream.PubAckFuture
}

// publishRound publishes nms[todo...] through the shared window, waits for every future and returns the indexes
// to republish with the last retryable error. err is a permanent failure or ctx's error.
func (c *Conn) publishRound(ctx context.Context, nms []*nats.Msg, todo []int, acks []PubAck) (failed []int, lastErr, err error) {
	var queue []inflight
	defer func() {
		if len(queue) > 0 { // abandoned on error: free their window slots when they resolve
			go c.releaseWhenResolved(queue)
		}
	}()
	settleOldest := func() error {
		f := queue[0]
		e, err := c.settle(ctx, f, acks)
		if err != nil {
			return err
		}
		queue = queue[1:]
		if e != nil {
			failed, lastErr = append(failed, f.idx), e
		}
		return nil
	}
	for _, i := range todo {
		for !c.tryAcquire() {
			if len(queue) == 0 {
				if err := c.acquire(ctx); err != nil {
					return nil, nil, err
				}
				break
			}
			if err := settleOldest(); err != nil {
				return nil, nil, err
			}
		}
		fut, e := c.js.PublishMsgAsync(nms[i])
		if e != nil {
			c.release()
			if !retryablePublish(e) {
				return nil, nil, e
			}
			failed, lastErr = append(failed, i), e
			continue
		}
		queue = append(queue, inflight{i, fut})
	}
	for len(queue) > 0 {
		if err := settleOldest(); err != nil {
			return nil, nil, err
		}
	}
	return failed, lastErr, nil
}

// settle waits for f's outcome and frees its window slot. It records a PubAck, returns a retryable publish
// error as retry, and a permanent error (or ctx's) as err; on ctx's error the slot is still held.
func (c *Conn) settle(ctx context.Context, f inflight, acks []PubAck) (retry, err error) {
	select {
	case ack := <-f.fut.Ok():
		c.release()
		acks[f.idx] = PubAck{Seq: ack.Sequence, Duplicate: ack.Duplicate}
		return nil, nil
	case e := <-f.fut.Err():
		c.release()
		if !retryablePublish(e) {
			return nil, e
		}
		return e, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// releaseWhenResolved frees the window slots of abandoned futures; each resolves within publishAckTimeout.
func (c *Conn) releaseWhenResolved(queue []inflight) {
	for _, f := range queue {
		select {
		case <-f.fut.Ok():
		case <-f.fut.Err():
		case <-c.closed:
		}
		c.release()
	}
}

func (c *Conn) tryAcquire() bool {
	select {
	case c.window <- struct{}{}:
		return true
	default:
		return false
	}
}

func (c *Conn) acquire(ctx context.Context) error {
	select {
	case c.window <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Conn) release() { <-c.window }

// Server errors worth republishing: the stream is (temporarily) unavailable or a duplicate is mid-proposal.
const (
	errCodeDuplicateInProcess = 10158
	errCodeStreamOffline      = 10118
	errCodeStreamOfflineF     = 10194
)

// retryablePublish says whether a failed publish may succeed if republished with the same Nats-Msg-Id.
func retryablePublish(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case errCodeDuplicateInProcess, errCodeStreamOffline, errCodeStreamOfflineF:
			return true
		}
		return apiErr.Code == 503
	}
	for _, permanent := range []error{nats.ErrConnectionClosed, nats.ErrBadSubject, nats.ErrMaxPayload,
		nats.ErrHeadersNotSupported, jetstream.ErrAsyncPublishReplySubjectSet, context.Canceled,
		context.DeadlineExceeded} {
		if errors.Is(err, permanent) {
			return false
		}
	}
	return true
}

// retryWait is a capped exponential backoff between republish rounds.
type retryWait struct{ next time.Duration }

func newRetryWait() *retryWait { return &retryWait{next: 25 * time.Millisecond} }

func (w *retryWait) sleep(ctx context.Context) error {
	t := time.NewTimer(w.next)
	defer t.Stop()
	w.next = min(2*w.next, time.Second)
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
