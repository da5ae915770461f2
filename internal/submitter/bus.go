package submitter

import (
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
)

// Bus models the operations of internal/bus.Conn the submitter uses: the planner's (aggStream), the
// driver's (recordReader, deadLetterPublisher) and the ledger bucket (ledger.Buckets).
type Bus interface {
	aggStream
	recordReader
	deadLetterPublisher
	ledger.Buckets
}

var _ Bus = (*bus.Conn)(nil)
