package submitter

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// Dead-letter reasons of the submitter (subjects usage.dlq.submitter.<reason>).
const (
	// reasonConnectInvalid: Connect's processing marked the record invalid; Message is its error text.
	reasonConnectInvalid = events.ReasonConnectInvalid
	// reasonUnwritable: the record cannot be written in a usage workbook (e.g. more decimals than the
	// item's precision, a TR record without a tier).
	reasonUnwritable = events.ReasonUnwritable
)

// Headers of the submitter's dead letters, besides Nats-Msg-Id and Usagepipe-Kind.
const (
	headerFileKey     = "Usagepipe-File-Key"
	headerRecordID    = "Usagepipe-Record-Id"
	headerConnectFile = "Usagepipe-Connect-File"
	kindDeadLetter    = "dead_letter"
	deadLetterStage   = events.StageSubmitter
	maxDeadLetterText = 1000
)

// deadLetter publishes one dead letter per record to usage.dlq.submitter.<reason>: the original record as
// payload, its source subject and sequence, and why. The Nats-Msg-Id (file key and record id) makes a
// repeat within the stream's duplicate window a no-op.
func (d *driver) deadLetter(ctx context.Context, e *ledger.Entry, records []source, why map[string]string, reason events.Reason) error {
	msgs := make([]bus.Msg, 0, len(records))
	for i := range records {
		m, err := d.deadLetterMsg(ctx, e, &records[i], why[records[i].id], reason)
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
	}
	if _, err := d.dlq.PublishBatch(ctx, msgs); err != nil {
		return fmt.Errorf("submitter: dead-letter %d records of %s: %w", len(msgs), e.Key, err)
	}
	d.ins.deadLettered(ctx, reason, len(msgs))
	d.log.WarnContext(ctx, "records dead-lettered", "key", e.Key, "file_id", e.FileID, "count", len(msgs),
		"reason", reason, "first_error", why[records[0].id])
	return nil
}

func (d *driver) deadLetterMsg(ctx context.Context, e *ledger.Entry, src *source, why string, reason events.Reason) (bus.Msg, error) {
	payload, err := json.Marshal(src.rec)
	if err != nil {
		return bus.Msg{}, fmt.Errorf("submitter: dead letter of %s: %w", src.id, err)
	}
	dl := events.DeadLetter{Stage: deadLetterStage, Reason: reason, Subject: src.subject, Seq: src.seq, At: d.now(),
		Message: clip(fmt.Sprintf("record %s of %s (Connect file %s): %s", src.id, e.ExternalID, e.FileID, why), maxDeadLetterText)}
	dl.SetPayload(payload)
	data, err := json.Marshal(dl)
	if err != nil {
		return bus.Msg{}, fmt.Errorf("submitter: dead letter of %s: %w", src.id, err)
	}
	h := bus.Header{}
	h.Set(events.HeaderKind, kindDeadLetter)
	h.Set(bus.HeaderMsgID, "submitter:"+e.Key+":"+src.id)
	h.Set(headerFileKey, e.Key)
	h.Set(headerRecordID, src.id)
	if e.FileID != "" {
		h.Set(headerConnectFile, e.FileID)
	}
	bus.InjectTrace(ctx, h)
	return bus.Msg{Subject: subjects.DeadLetters(deadLetterStage, reason), Header: h, Data: data}, nil
}
