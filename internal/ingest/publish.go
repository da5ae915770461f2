package ingest

import (
	"context"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// store publishes b's events as packets, but for those this process remembers having stored, together with
// the dead letters of the rejections it keeps (kept.go), and waits until every message is acknowledged; then
// it marks each event accepted (or duplicate, when JetStream already held its packet) and remembers their
// keys, all together. On error no result but the remembered ones' is changed: the caller answers 503.
func (s *Service) store(ctx context.Context, b *batch) error {
	var packets []*packet
	if len(b.events) > 0 {
		packets = buildPackets(b, s.cfg.Partitions, s.recent)
	}
	kept, err := s.keptMsgs(ctx, b)
	if err != nil || len(packets) == 0 && len(kept) == 0 {
		return err
	}
	msgs, spans := s.packetMsgs(ctx, packets)
	pctx, cancel := context.WithTimeout(ctx, s.cfg.PublishTimeout)
	acks, err := s.bus.PublishBatch(pctx, append(msgs, kept...))
	cancel()
	endSpans(spans, acks, err)
	if err != nil {
		b.data = nil // publishes still in flight may read it: never reuse it
		return err
	}
	if len(kept) > 0 {
		s.metrics.keptLetters(b.kept, acks[len(msgs):])
	}
	s.markStored(b, packets, acks)
	return nil
}

// markStored marks the events of acknowledged packets accepted or duplicate and remembers their keys.
func (s *Service) markStored(b *batch, packets []*packet, acks []bus.PubAck) {
	if len(packets) == 0 {
		return
	}
	stored := s.cfg.Now()
	for i, p := range packets {
		status := events.StatusAccepted
		if acks[i].Duplicate {
			status = events.StatusDuplicate
		}
		for j, slot := range p.slots {
			b.results[slot].Status = status
			if status == events.StatusAccepted {
				s.metrics.observeDelay(p.events[j].Time, stored)
			}
		}
	}
	s.metrics.packets.Add(float64(len(packets)))
	if s.recent != nil {
		s.recent.add(storedKeys(packets))
	}
}

// packetMsgs builds one message per packet, each with its own producer span injected into its headers.
func (s *Service) packetMsgs(ctx context.Context, packets []*packet) ([]bus.Msg, []trace.Span) {
	msgs := make([]bus.Msg, len(packets))
	spans := make([]trace.Span, len(packets))
	for i, p := range packets {
		sctx, span := s.tracer.Start(ctx, "publish "+subjects.EventsTemplate,
			trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(publishAttributes(p)...))
		h := bus.Header{}
		h.Set(events.HeaderKind, events.KindEvents)
		h.Set(bus.HeaderMsgID, p.msgID)
		bus.InjectTrace(sctx, h)
		msgs[i], spans[i] = bus.Msg{Subject: p.subject(), Header: h, Data: p.data}, span
	}
	return msgs, spans
}

func publishAttributes(p *packet) []attribute.KeyValue {
	return []attribute.KeyValue{
		semconv.MessagingSystemKey.String("nats"),
		semconv.MessagingOperationName("publish"),
		semconv.MessagingOperationTypeSend,
		semconv.MessagingDestinationName(p.subject()),
		semconv.MessagingDestinationTemplate(subjects.EventsTemplate),
		semconv.MessagingDestinationPartitionID(strconv.Itoa(p.partition)),
		semconv.MessagingMessageID(p.msgID),
		semconv.MessagingMessageBodySize(len(p.data)),
		attribute.Int("usagepipe.events", len(p.events)),
	}
}

// endSpans ends each packet's span with its outcome.
func endSpans(spans []trace.Span, acks []bus.PubAck, err error) {
	for i, span := range spans {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, "publish failed")
		} else {
			span.SetAttributes(attribute.Int64("messaging.nats.sequence", int64(acks[i].Seq)),
				attribute.Bool("messaging.nats.duplicate", acks[i].Duplicate))
		}
		span.End()
	}
}
