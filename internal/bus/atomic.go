package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"
)

// MaxAtomicBatch is the server's limit on messages in one atomic batch.
const MaxAtomicBatch = 1000

// Server error codes of a failed expected-last-subject-sequence check.
const (
	errCodeWrongLastSequence         = 10071
	errCodeWrongLastSequenceConstant = 10164
)

// CommitAtomic stores msgs (1..MaxAtomicBatch messages, all in one stream with AllowAtomicPublish) as one
// all-or-nothing batch and returns the sequence of its last message. msgs[0] is fenced: the batch is stored
// only if the last message on msgs[0].Subject has sequence fenceSeq (0: the subject must hold no message), and
// no earlier message of the batch may use that subject. A failed fence returns ErrFenced and stores nothing.
// A timeout or disconnect returns ErrAmbiguous wrapping the cause: the batch may be stored (even later, when a
// buffered commit reaches the server), so re-read msgs[0].Subject before deciding; retrying with the same
// fence is always safe since at most one batch with a given fence can be stored. A single message is stored
// with a plain fenced publish (commitOne), with the same outcomes.
func (c *Conn) CommitAtomic(ctx context.Context, msgs []Msg, fenceSeq uint64) (uint64, error) {
	if len(msgs) == 0 || len(msgs) > MaxAtomicBatch {
		return 0, fmt.Errorf("bus: commit atomic: %d messages (1..%d): %w", len(msgs), MaxAtomicBatch, ErrInvalid)
	}
	nms := make([]*nats.Msg, len(msgs))
	for i, m := range msgs {
		if m.Subject == "" {
			return 0, fmt.Errorf("bus: commit atomic: message %d has no subject: %w", i, ErrInvalid)
		}
		nms[i] = m.natsMsg() // never a nil Header: jetstreamext panics on one
	}
	nms[0].Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(fenceSeq, 10))
	if len(nms) == 1 {
		return c.commitOne(ctx, nms[0], fenceSeq)
	}
	ack, err := jetstreamext.PublishMsgBatch(ctx, c.js, nms, batchFlowControl(ctx))
	if err != nil {
		return 0, fmt.Errorf("bus: commit atomic %d messages on %s fenced at %d: %w",
			len(msgs), msgs[0].Subject, fenceSeq, classifyCommitErr(err))
	}
	return ack.Sequence, nil
}

// commitOne stores a one-message commit as a plain fenced publish: one message is all or nothing anyway,
// and an atomic batch on an R1 file stream costs the server a temporary file store (a directory, a meta file
// synced to disk, removed after the commit), several milliseconds of mostly I/O per batch.
func (c *Conn) commitOne(ctx context.Context, nm *nats.Msg, fenceSeq uint64) (uint64, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, apiTimeout)
		defer cancel()
	}
	ack, err := c.js.PublishMsg(ctx, nm)
	if err != nil {
		return 0, fmt.Errorf("bus: commit 1 message on %s fenced at %d: %w", nm.Subject, fenceSeq, classifyCommitErr(err))
	}
	return ack.Sequence, nil
}

// batchFlowControl waits for the server to accept the batch's first message, within ctx's deadline (the
// library would otherwise wait the full API timeout whatever ctx says).
func batchFlowControl(ctx context.Context) jetstreamext.BatchFlowControl {
	timeout := apiTimeout
	if deadline, ok := ctx.Deadline(); ok {
		timeout = max(min(timeout, time.Until(deadline)), time.Millisecond)
	}
	return jetstreamext.BatchFlowControl{AckFirst: true, AckTimeout: timeout}
}

// classifyCommitErr maps a batch error to ErrFenced, a definite server rejection (nothing stored), or
// ErrAmbiguous (no or an unreadable answer: timeout, disconnect, no responders, invalid ack).
func classifyCommitErr(err error) error {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case errCodeWrongLastSequence, errCodeWrongLastSequenceConstant:
			return fmt.Errorf("%w: %w", ErrFenced, err)
		}
		return err // the server rejected the batch: nothing stored
	}
	return fmt.Errorf("%w: %w", ErrAmbiguous, err)
}
