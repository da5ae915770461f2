package aggregate

import (
	"strings"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// keyID identifies an aggregate: subscription, period start, meter (product, item, contract) and tier.
type keyID struct {
	sub   string
	start int64 // period start, Unix nanoseconds
	meter uint32
	tier  int32
}

// aggKind is events.Aggregation as a small integer for the hot path.
type aggKind uint8

const (
	aggSum aggKind = iota
	aggCount
	aggMax
	aggMin
	aggLast
	aggUnique
)

func kindOf(a events.Aggregation) aggKind {
	switch a {
	case events.AggregationCount:
		return aggCount
	case events.AggregationMax:
		return aggMax
	case events.AggregationMin:
		return aggMin
	case events.AggregationLast:
		return aggLast
	case events.AggregationUniqueCount:
		return aggUnique
	}
	return aggSum
}

// replaces reports whether adjustments of this aggregation carry the new value rather than a delta.
func (k aggKind) replaces() bool { return k == aggMax || k == aggMin || k == aggLast }

// hasQty reports whether the aggregation folds the quantities (count and unique_count ignore them).
func (k aggKind) hasQty() bool { return k != aggCount && k != aggUnique }

// acc flags.
const (
	flagAmount    uint8 = 1 << iota // an event carried an amount: amount (or ext.amount) is their sum
	flagRecord                      // the closed record (revision 0) was emitted
	flagDirty                       // the key has late events in the message being applied
	flagQtyDec                      // the quantity is ext.qty: the fixed point could not hold it
	flagAmountDec                   // the sum of amounts is ext.amount: the fixed point could not hold it
)

// persistentFlags are the flags a snapshot keeps; the others describe the message being applied or the
// representation of the values.
const persistentFlags = flagAmount | flagRecord

// acc is the aggregate of one key: 104 bytes, plus an accExt for last, unique_count and values the fixed point
// cannot hold. Quantities and amounts are exact fixed-point integers (see fixed.go) as long as they fit.
type acc struct {
	key    keyID
	qty    int64         // sum, max, min or last value × 10^scale of the key's spec, unless flagQtyDec
	amt    int64         // sum of amounts × 10^events.AmountPrecision, unless flagAmountDec
	digest events.Digest // of the keys of the events folded before the close
	events int64         // events folded, before and after the close
	seq    uint64        // stream sequence of the last packet that contributed
	ext    *accExt
	rev    int32  // last revision emitted (or implied: a key created late starts at 0)
	market uint32 // marketplace of the first event, index into State.markets
	spec   uint32 // how it folds, index into State.specs
	flags  uint8
}

type accExt struct {
	qty    events.Decimal // with flagQtyDec
	amount events.Decimal // with flagAmountDec
	at     int64          // last: event time of the current value, Unix nanoseconds
	uniq   map[string]struct{}
}

func (a *acc) extension() *accExt {
	if a.ext == nil {
		a.ext = &accExt{}
	}
	return a.ext
}

// fold adds one event: its quantity q, event time t (Unix nanoseconds), amount (nil if none) and unique
// attribute value. Events are folded in stream order, so for last a tie in time goes to the event folded later.
func (a *acc) fold(sp *foldSpec, q fixedNum, t int64, amount *fixedNum, uniq string, seq uint64) {
	switch sp.kind {
	case aggSum, aggMax, aggMin, aggLast:
		a.foldQty(sp, q, t)
	case aggUnique:
		x := a.extension()
		if x.uniq == nil {
			x.uniq = make(map[string]struct{})
		}
		if _, seen := x.uniq[uniq]; !seen {
			x.uniq[strings.Clone(uniq)] = struct{}{} // an event's string may be a substring of its packet
		}
	}
	if amount != nil {
		a.addAmount(*amount)
	}
	a.events++
	a.seq = seq
}

// value is the aggregate's quantity.
func (a *acc) value(sp *foldSpec) events.Decimal {
	switch sp.kind {
	case aggCount:
		return events.DecimalFromInt(a.events)
	case aggUnique:
		return events.DecimalFromInt(int64(a.uniqueCount()))
	}
	return a.quantity(sp.scale)
}

// lastAt is the event time of a last value (0 before the first event).
func (a *acc) lastAt() int64 {
	if a.ext == nil {
		return 0
	}
	return a.ext.at
}

// uniqSet is the set of unique_count values (nil before the first event).
func (a *acc) uniqSet() map[string]struct{} {
	if a.ext == nil {
		return nil
	}
	return a.ext.uniq
}

func (a *acc) uniqueCount() int {
	if a.ext == nil {
		return 0
	}
	return len(a.ext.uniq)
}

const chunkBits = 10

// accSlab stores accs in fixed chunks (no reallocation, no over-allocation) and recycles freed slots.
type accSlab struct {
	chunks [][]acc
	n      int32 // slots handed out
	free   []int32
}

func (sl *accSlab) at(i int32) *acc { return &sl.chunks[i>>chunkBits][i&(1<<chunkBits-1)] }

func (sl *accSlab) alloc() int32 {
	if n := len(sl.free); n > 0 {
		i := sl.free[n-1]
		sl.free = sl.free[:n-1]
		return i
	}
	if int(sl.n) == len(sl.chunks)<<chunkBits {
		sl.chunks = append(sl.chunks, make([]acc, 1<<chunkBits))
	}
	sl.n++
	return sl.n - 1
}

func (sl *accSlab) release(i int32) {
	*sl.at(i) = acc{}
	sl.free = append(sl.free, i)
}
