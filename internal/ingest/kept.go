package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// Kept rejections (Config.KeepRejected): an event rejected by validation for a reason a later fix can cure
// (events.Reason.Curable: the catalog or the clock decided, not the event's form) is stored as a dead letter
// on usage.dlq.ingest.<reason>, with its bytes as sent, in the same publish as the request's packets and
// before the answer, so that an operator can replay it once the cause is fixed (internal/deadletter). The
// producer's answer is unchanged. An event whose source the request's key may not write is never kept: no
// key can plant another producer's (source, id).

// keptRejection is a rejected event to keep: its request position, why, the partition it would have gone
// to, and its bytes (keptBytes).
type keptRejection struct {
	slot      int
	rej       events.Rejection
	partition int
	event     events.Event // as decoded (or mapped from OTLP)
	raw       []byte
}

// keep notes the event at request position i, rejected by validation with rej, as one to keep, when ingest
// keeps rejections, the reason is curable and the request's key may write the event's source.
func (s *Service) keep(b *batch, i int, e *events.Event, rej *events.Rejection) {
	if !s.cfg.KeepRejected || rej == nil || !rej.Reason.Curable() || !s.keys.writes(b.producer, e.Source) {
		return
	}
	b.kept = append(b.kept, keptRejection{slot: i, rej: *rej, partition: events.Partition(e.Subject, s.cfg.Partitions), event: *e})
}

// keptBytes gives each event to keep its bytes: as sent, read back from a CloudEvents body (a single event is
// the whole body); for an event ingest mapped from OTLP, its JSON (the event ingest made of the record).
func keptBytes(b *batch, body []byte, a api, maxBatch int) error {
	if len(b.kept) == 0 {
		return nil
	}
	ea, ok := a.(*eventsAPI)
	if !ok {
		for i := range b.kept {
			raw, err := json.Marshal(b.kept[i].event)
			if err != nil {
				return fmt.Errorf("ingest: kept rejection %d: %w", b.kept[i].slot, err)
			}
			b.kept[i].raw = raw
		}
		return nil
	}
	first := bytes.TrimSpace(body)
	elems := [][]byte{first}
	if len(first) > 0 && first[0] == '[' && ea.shape&shapeArray != 0 {
		raw, err := events.SplitBatch(first, maxBatch)
		if err != nil {
			return &bodyError{http.StatusBadRequest, err.Error()}
		}
		elems = elems[:0]
		for _, r := range raw {
			elems = append(elems, r)
		}
	}
	for i := range b.kept {
		if k := &b.kept[i]; k.slot < len(elems) {
			k.raw = append([]byte(nil), elems[k.slot]...)
		}
	}
	return nil
}

// keptMsgs builds one dead-letter message per kept rejection, with Nats-Msg-Id ingest-<sha256 of its bytes>
// (a retried request stores nothing twice within USAGE_DLQ's duplicate window).
func (s *Service) keptMsgs(ctx context.Context, b *batch) ([]bus.Msg, error) {
	msgs := make([]bus.Msg, 0, len(b.kept))
	at := s.cfg.Now().UTC()
	for i := range b.kept {
		k := &b.kept[i]
		dl := events.DeadLetter{Stage: events.StageIngest, Reason: k.rej.Reason, Message: k.rej.Error(),
			Subject: subjects.Events(k.partition), At: at}
		dl.SetPayload(k.raw)
		data, err := json.Marshal(dl)
		if err != nil {
			return nil, fmt.Errorf("ingest: dead letter of event %d: %w", k.slot, err)
		}
		sum := sha256.Sum256(k.raw)
		h := bus.Header{}
		h.Set(events.HeaderKind, kindDeadLetter)
		h.Set(bus.HeaderMsgID, "ingest-"+hex.EncodeToString(sum[:]))
		bus.InjectTrace(ctx, h)
		msgs = append(msgs, bus.Msg{Subject: subjects.DeadLetters(events.StageIngest, k.rej.Reason), Header: h, Data: data})
	}
	return msgs, nil
}

// kindDeadLetter is the Usagepipe-Kind of a dead letter.
const kindDeadLetter = "dead_letter"
