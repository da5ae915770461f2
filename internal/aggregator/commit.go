package aggregator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// ambiguousRereadTimeout bounds how long a runner tries to learn the fate of an ambiguous commit.
const ambiguousRereadTimeout = 10 * time.Second

// commitJob is one commit cut from the pending messages. A committer goroutine stores it while the runner goes
// on folding; a runner has at most one in flight, because each commit is fenced on the previous one's last
// progress record.
type commitJob struct {
	pend    *pending // the source messages and output it stores (owned by the job until it is done)
	prog    progress // its progress record (Part, Parts and Emitted are set per part)
	skip    int      // output messages an interrupted commit already stored
	resumed bool     // it finishes an interrupted commit
	fence   uint64   // in: the fence of its first part; out: the sequence of its last progress record
	snap    []byte   // the state after prog.To under prog.Config, stored once the commit is complete (nil: none due)
	err     error
	traced  context.Context // out: carries the commit span's context, for the runner's logs of the commit
	done    chan struct{}
	stop    context.CancelFunc // cancels the commit's context
}

// commit stores what is pending and waits for it (a final commit; tests). On any error the runner must stop
// (and be rebuilt from the stream).
func (r *runner) commit(ctx context.Context) error {
	if err := r.awaitCommit(); err != nil {
		return err
	}
	if err := r.startCommit(ctx); err != nil {
		return err
	}
	return r.awaitCommit()
}

// maybeCommit starts a commit when one is due and none is in flight. While one is, the pending part keeps
// growing (commits get larger when storing is slow) up to pendingFull, and then the runner waits for it.
func (r *runner) maybeCommit(ctx context.Context) error {
	if !r.commitDue() {
		return nil
	}
	if r.inflight != nil {
		if !r.pendingFull() {
			return nil
		}
		if err := r.awaitCommit(); err != nil {
			return err
		}
	}
	return r.startCommit(ctx)
}

// startCommit cuts the pending messages into a commit stored in the background; nothing may be in flight. The
// commit runs on a context that stopping the runner does not cancel, so that a stopped runner's last commit
// completes (flush gives it shutdownTimeout). The first commit after a replay verifies the replay first.
func (r *runner) startCommit(ctx context.Context) error {
	if err := r.finishReplay(ctx); err != nil {
		return err
	}
	j := &commitJob{pend: r.pend, prog: r.progressRecord(), fence: r.fence, done: make(chan struct{})}
	if r.resume != nil {
		j.skip, j.prog.Part, j.prog.After, j.resumed = r.resume.Emitted, r.resume.Part, r.resume.After, true
		r.resume = nil
	}
	j.snap = r.snapshotIfDue(r.opts.Now())
	r.pend, r.spare = r.spare, nil
	if r.pend == nil {
		r.pend = &pending{}
	}
	r.inflight = j
	ctx, j.stop = context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		defer close(j.done)
		j.err = r.store(ctx, j)
	}()
	return nil
}

// inflightDone is closed when the commit in flight is done (nil when none is).
func (r *runner) inflightDone() <-chan struct{} {
	if r.inflight == nil {
		return nil
	}
	return r.inflight.done
}

// awaitCommit waits for the commit in flight, if any, and makes it the committed base.
func (r *runner) awaitCommit() error {
	j := r.inflight
	if j == nil {
		return nil
	}
	<-j.done
	j.stop()
	r.inflight = nil
	if j.err != nil {
		r.failed = j.traced
		return j.err
	}
	r.fence, r.base = j.fence, j.prog.To
	if j.snap != nil {
		r.startSnapshot(snapshotRef{seq: j.prog.To, digest: j.prog.Config}, j.snap)
	}
	r.log.DebugContext(j.traced, "committed", "from", j.prog.From, "to", j.prog.To, "messages", j.prog.Messages,
		"events", j.prog.Events)
	j.pend.reset()
	r.spare = j.pend
	return nil
}

// store writes a commit: its output messages with a progress record, in one atomic batch fenced on the
// previous progress record, or in several sequential parts when it is larger than a batch (the snapshot taken
// at its end, if any, is stored by the runner once the commit is complete: startSnapshot). It runs on the committer goroutine and touches only j and the runner's read-only
// fields.
func (r *runner) store(ctx context.Context, j *commitJob) error {
	ctx, span := r.commitSpan(ctx, j.pend)
	defer span.End()
	j.traced = trace.ContextWithSpanContext(context.Background(), span.SpanContext())
	msgs := outputMessages(r.p, &j.pend.out)
	prog := j.prog
	if j.skip > len(msgs) {
		return fmt.Errorf("partition %d: resuming commit %d..%d: %d messages emitted but %d derived",
			r.p, prog.From, prog.To, j.skip, len(msgs))
	}
	parts := splitParts(msgs[j.skip:], r.opts.partMessages, maxBatchBytes)
	prog.Parts = prog.Part + len(parts)
	prog.Emitted = j.skip
	for _, part := range parts {
		prog.Part++
		prog.Emitted += len(part)
		if err := r.commitPart(ctx, j, prog, part); err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, "commit failed")
			return err
		}
	}
	j.prog = prog
	r.ins.commits.Add(ctx, 1)
	r.ins.committedEvents.Add(ctx, int64(prog.Events))
	r.ins.countDeadLetters(ctx, j.pend.out.DeadLetters)
	if j.resumed {
		r.log.InfoContext(ctx, "interrupted commit finished", "from", prog.From, "to", prog.To, "parts", prog.Parts)
	}
	return nil
}

// progressRecord describes the pending commit (Part, Parts and Emitted are set per part).
func (r *runner) progressRecord() progress {
	o := &r.pend.out
	return progress{
		Partition: r.p, From: r.pend.from, To: r.pend.to,
		Messages: r.pend.messages, Events: r.pend.events,
		Closed: len(o.Closed), Adjustments: len(o.Adjustments), Marks: len(o.Marks), DeadLetters: len(o.DeadLetters),
		Member: r.opts.MemberID, Incarnation: r.incarnation, After: r.base, Config: r.foldDigest,
	}
}

// commitPart stores one batch: the progress record (fenced on j.fence) and its output messages, holding one of
// the worker's commit slots while the batch is open.
func (r *runner) commitPart(ctx context.Context, j *commitJob, prog progress, part []outMsg) error {
	batch := make([]bus.Msg, 0, len(part)+1)
	batch = append(batch, r.outMsg(ctx, subjects.Progress(r.p), events.KindProgress, mustJSON(prog)))
	for _, m := range part {
		batch = append(batch, r.outMsg(ctx, m.subject, m.kind, m.data))
	}
	if !r.slots.acquire(ctx) {
		return fmt.Errorf("partition %d commit %d..%d part %d: waiting for a commit slot: %w", r.p, prog.From, prog.To, prog.Part, ctx.Err())
	}
	last, err := r.conn.CommitAtomic(ctx, batch, j.fence)
	r.slots.release()
	switch {
	case err == nil:
		j.fence = last - uint64(len(batch)-1) // an atomic batch is stored contiguously
		return nil
	case errors.Is(err, bus.ErrFenced):
		r.ins.fenced.Add(ctx, 1)
		return fmt.Errorf("partition %d commit %d..%d part %d: %w: %w", r.p, prog.From, prog.To, prog.Part, errFenced, err)
	case errors.Is(err, bus.ErrAmbiguous):
		r.ins.ambiguous.Add(ctx, 1)
		return r.resolveAmbiguous(ctx, j, prog, err)
	default:
		return fmt.Errorf("partition %d commit %d..%d part %d: %w", r.p, prog.From, prog.To, prog.Part, err)
	}
}

// resolveAmbiguous re-reads the partition's progress to learn whether the batch of prog landed. If it did, the
// fence moves to it; otherwise the runner stops and is rebuilt (a batch still in flight may land later: the
// rebuilt runner's first commit is then fenced, and the one after that starts from it).
func (r *runner) resolveAmbiguous(ctx context.Context, j *commitJob, prog progress, cause error) error {
	ctx, cancel := context.WithTimeout(ctx, ambiguousRereadTimeout)
	defer cancel()
	for {
		last, err := r.conn.LastMsg(ctx, bus.StreamAgg, subjects.Progress(r.p))
		if err == nil || errors.Is(err, bus.ErrNotFound) {
			if got, derr := decodeProgress(last.Data); err == nil && derr == nil && last.Seq > j.fence && got.sameCommit(prog) {
				r.log.InfoContext(ctx, "ambiguous commit had landed", "from", prog.From, "to", prog.To, "part", prog.Part)
				j.fence = last.Seq
				return nil
			}
			return fmt.Errorf("partition %d commit %d..%d part %d not stored: %w", r.p, prog.From, prog.To, prog.Part, cause)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("partition %d commit %d..%d part %d: outcome unknown: %w", r.p, prog.From, prog.To, prog.Part, cause)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// outMsg builds an output message with its kind and the commit span's trace context.
func (r *runner) outMsg(ctx context.Context, subject, kind string, data []byte) bus.Msg {
	h := bus.Header{events.HeaderKind: []string{kind}}
	bus.InjectTrace(ctx, h)
	return bus.Msg{Subject: subject, Header: h, Data: data}
}

// commitSpanName is the process span's name: operation and destination template (semantic conventions).
func commitSpanName() string { return "process " + subjects.EventsTemplate }
