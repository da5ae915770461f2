package aggregator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
	"go.opentelemetry.io/otel/codes"
)

// ambiguousRereadTimeout bounds how long a runner tries to learn the fate of an ambiguous commit.
const ambiguousRereadTimeout = 10 * time.Second

// commit stores the pending source messages' output with their progress record, in one atomic batch fenced on
// the previous progress record, or in several sequential parts when it is larger than a batch. On success the
// pending state becomes the committed base; on any error the runner must stop (and be rebuilt from the stream).
func (r *runner) commit(ctx context.Context) error {
	ctx, span := r.commitSpan(ctx)
	defer span.End()
	msgs := outputMessages(r.p, &r.pend.out)
	prog := r.progressRecord()
	skip := 0
	if r.resume != nil {
		skip, prog.Part = r.resume.Emitted, r.resume.Part
	}
	if skip > len(msgs) {
		return fmt.Errorf("partition %d: resuming commit %d..%d: %d messages emitted but %d derived",
			r.p, prog.From, prog.To, skip, len(msgs))
	}
	parts := splitParts(msgs[skip:], r.opts.partMessages, maxBatchBytes)
	prog.Parts = prog.Part + len(parts)
	prog.Emitted = skip
	for _, part := range parts {
		prog.Part++
		prog.Emitted += len(part)
		if err := r.commitPart(ctx, prog, part); err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, "commit failed")
			return err
		}
	}
	r.committed(ctx, prog)
	return nil
}

// progressRecord describes the pending commit (Part, Parts and Emitted are set per part).
func (r *runner) progressRecord() progress {
	o := &r.pend.out
	return progress{
		Partition: r.p, From: r.pend.from, To: r.pend.to,
		Messages: r.pend.messages, Events: r.pend.events,
		Closed: len(o.Closed), Adjustments: len(o.Adjustments), Marks: len(o.Marks), DeadLetters: len(o.DeadLetters),
		Member: r.opts.MemberID, Incarnation: r.incarnation,
	}
}

// commitPart stores one batch: the progress record (fenced) and its output messages.
func (r *runner) commitPart(ctx context.Context, prog progress, part []outMsg) error {
	batch := make([]bus.Msg, 0, len(part)+1)
	batch = append(batch, r.outMsg(ctx, progressSubject(r.p), events.KindProgress, mustJSON(prog)))
	for _, m := range part {
		batch = append(batch, r.outMsg(ctx, m.subject, m.kind, m.data))
	}
	last, err := r.conn.CommitAtomic(ctx, batch, r.fence)
	switch {
	case err == nil:
		r.fence = last - uint64(len(batch)-1) // an atomic batch is stored contiguously
		return nil
	case errors.Is(err, bus.ErrFenced):
		r.ins.fenced.Add(ctx, 1)
		return fmt.Errorf("partition %d commit %d..%d part %d: %w: %w", r.p, prog.From, prog.To, prog.Part, errFenced, err)
	case errors.Is(err, bus.ErrAmbiguous):
		r.ins.ambiguous.Add(ctx, 1)
		return r.resolveAmbiguous(ctx, prog, err)
	default:
		return fmt.Errorf("partition %d commit %d..%d part %d: %w", r.p, prog.From, prog.To, prog.Part, err)
	}
}

// resolveAmbiguous re-reads the partition's progress to learn whether the batch of prog landed. If it did, the
// fence moves to it; otherwise the runner stops and is rebuilt (a batch still in flight may land later: the
// rebuilt runner's first commit is then fenced, and the one after that starts from it).
func (r *runner) resolveAmbiguous(ctx context.Context, prog progress, cause error) error {
	ctx, cancel := context.WithTimeout(ctx, ambiguousRereadTimeout)
	defer cancel()
	for {
		last, err := r.conn.LastMsg(ctx, bus.StreamAgg, progressSubject(r.p))
		if err == nil || errors.Is(err, bus.ErrNotFound) {
			if got, derr := decodeProgress(last.Data); err == nil && derr == nil && last.Seq > r.fence && got.sameCommit(prog) {
				r.log.Info("ambiguous commit had landed", "from", prog.From, "to", prog.To, "part", prog.Part)
				r.fence = last.Seq
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

// committed makes the pending commit the new base and snapshots when due.
func (r *runner) committed(ctx context.Context, prog progress) {
	r.ins.commits.Add(ctx, 1)
	r.ins.committedEvents.Add(ctx, int64(prog.Events))
	if r.resume != nil {
		r.log.Info("interrupted commit finished", "from", prog.From, "to", prog.To, "parts", prog.Parts)
	}
	r.log.Debug("committed", "from", prog.From, "to", prog.To, "messages", prog.Messages, "events", prog.Events)
	r.base, r.resume = prog.To, nil
	r.pend.reset()
	r.maybeSnapshot(ctx, time.Now())
}

// commitSpanName is the process span's name: operation and destination template (semantic conventions).
func commitSpanName() string { return "process " + bus.SubjectEvents + ".{partition}" }
