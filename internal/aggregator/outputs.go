package aggregator

import (
	"encoding/json"

	"github.com/usagepipe/usagepipe/internal/aggregate"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// maxMsgBytes bounds the JSON lines packed into one output message (the server's max_payload is 1 MiB).
const maxMsgBytes = 256 << 10

// maxBatchBytes bounds the payload of one atomic batch; larger commits are split into parts.
const maxBatchBytes = 8 << 20

// outputMessages packs the fold's output of one commit into messages, in a deterministic order: closed
// records, adjustments and dead letters (each subject's lines in the order the fold emitted them), then the
// marks, which must follow the records they cover.
func outputMessages(p int, out *aggregate.Output) []outMsg {
	pk := newPacker(maxMsgBytes)
	for i := range out.Closed {
		r := &out.Closed[i]
		pk.add(subjects.Records.Subject(r.Product, r.Contract, r.PeriodStart, p), events.KindRecords, mustJSON(r))
	}
	for i := range out.Adjustments {
		r := &out.Adjustments[i]
		pk.add(subjects.Adjustments.Subject(r.Product, r.Contract, r.PeriodStart, p), events.KindAdjustments, mustJSON(r))
	}
	for i := range out.DeadLetters {
		pk.add(subjects.AggDeadLetters(p), kindDeadLetter, mustJSON(&out.DeadLetters[i]))
	}
	msgs := pk.drain(nil)
	for i := range out.Marks {
		m := &out.Marks[i]
		pk.add(subjects.Marks.Subject(m.Product, m.Contract, m.PeriodStart, p), events.KindMark, mustJSON(m))
	}
	return pk.drain(msgs)
}

// mustJSON encodes wire types, which cannot fail to encode (their times come from the stream or the catalog).
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("aggregator: encoding output: " + err.Error())
	}
	return b
}
