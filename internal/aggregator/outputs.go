package aggregator

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregate"
	"github.com/usagepipe/usagepipe/pkg/events"
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
		pk.add(periodSubject(subjectRecordPrefix, r.Product, r.Contract, r.PeriodStart, p), events.KindRecords, mustJSON(r))
	}
	for i := range out.Adjustments {
		r := &out.Adjustments[i]
		pk.add(periodSubject(subjectAdjustPrefix, r.Product, r.Contract, r.PeriodStart, p), events.KindAdjustments, mustJSON(r))
	}
	for i := range out.DeadLetters {
		pk.add(dlqSubject(p), kindDeadLetter, mustJSON(&out.DeadLetters[i]))
	}
	msgs := pk.drain(nil)
	for i := range out.Marks {
		m := &out.Marks[i]
		pk.add(periodSubject(subjectMarkPrefix, m.Product, m.Contract, m.PeriodStart, p), events.KindMark, mustJSON(m))
	}
	return pk.drain(msgs)
}

// periodSubject is <prefix><product>.<contract>.<periodKey>.<p> with tokens made subject-safe.
func periodSubject(prefix, product, contract string, start time.Time, p int) string {
	return prefix + events.SubjectToken(product) + "." + events.SubjectToken(contract) + "." +
		events.Period{Start: start}.Key() + "." + strconv.Itoa(p)
}

// mustJSON encodes wire types, which cannot fail to encode (their times come from the stream or the catalog).
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("aggregator: encoding output: " + err.Error())
	}
	return b
}
