package submitter

import (
	"context"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Span attributes.
const (
	attrProduct  = attribute.Key("usagepipe.product")
	attrContract = attribute.Key("usagepipe.contract")
	attrPeriod   = attribute.Key("usagepipe.period")
	attrRevision = attribute.Key("usagepipe.file.revision")
	attrPart     = attribute.Key("usagepipe.file.part")
	attrKey      = attribute.Key("usagepipe.file.key")
	attrState    = attribute.Key("usagepipe.file.state")
	attrFileID   = attribute.Key("connect.file.id")
	attrStatus   = attribute.Key("connect.file.status")
	attrRecords  = attribute.Key("usagepipe.file.records")
)

// startPlan starts the span of planning a file, linked to the message that triggered it.
func (pl *planner) startPlan(ctx context.Context, id ledger.FileID, h bus.Header) (context.Context, trace.Span) {
	var links []trace.Link
	if sc := trace.SpanContextFromContext(bus.ExtractTrace(context.Background(), h)); sc.IsValid() {
		links = append(links, trace.Link{SpanContext: sc})
	}
	return pl.tracer.Start(ctx, "usagefile plan", trace.WithLinks(links...), trace.WithAttributes(
		attrProduct.String(id.Product), attrContract.String(id.Contract), attrPeriod.String(events.Period{Start: id.PeriodStart}.Key()),
		attrRevision.Int(id.Revision)))
}

// endPlan records err on the plan span and returns it.
func endPlan(span trace.Span, err error) error {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "planning failed")
	}
	return err
}

// startStep starts the span of one file operation. It links to the source messages' trace contexts (the
// aggregator commits, which link back to ingest), at most maxLinks of them.
func (d *driver) startStep(ctx context.Context, e *ledger.Entry, op string) (context.Context, trace.Span) {
	return d.tracer.Start(ctx, "usagefile "+op, trace.WithLinks(linksOf(e.Links)...), trace.WithAttributes(
		attrProduct.String(e.Product), attrContract.String(e.Contract), attrPeriod.String(events.Period{Start: e.PeriodStart}.Key()),
		attrRevision.Int(e.Revision), attrPart.Int(e.Part), attrKey.String(e.Key), attrRecords.Int(e.Records),
		attrFileID.String(e.FileID), attrState.String(string(e.State))))
}

// endStep records the outcome of a step on its span and ends it.
func endStep(span trace.Span, e *ledger.Entry, err error) {
	span.SetAttributes(attrFileID.String(e.FileID), attrStatus.String(e.Status), attrState.String(string(e.State)))
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, retryReason(err))
	}
	span.End()
}

// linksOf turns stored traceparents into span links.
func linksOf(tps []string) []trace.Link {
	links := make([]trace.Link, 0, len(tps))
	tc := propagation.TraceContext{}
	for _, tp := range tps {
		ctx := tc.Extract(context.Background(), propagation.MapCarrier{"traceparent": tp})
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			links = append(links, trace.Link{SpanContext: sc})
		}
	}
	return links
}

// stateAttrs are the metric attributes of a file entering state st.
func stateAttrs(e *ledger.Entry, st ledger.State) []attribute.KeyValue {
	return []attribute.KeyValue{attribute.String("state", string(st)), attribute.String("kind", e.Kind())}
}
