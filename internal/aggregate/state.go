package aggregate

import (
	"math"
	"time"
	"unsafe"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// State is the fold of one partition's event stream up to LastSeq. Create it with New or Restore.
type State struct {
	cfg     Config
	subject string // the source subject, for dead letters

	clock    int64 // stream time, Unix nanoseconds; valid when clockSet
	clockSet bool
	lastSeq  uint64

	prods     map[string]*prodState
	markProds []*prodState // products with a definition (in the catalog or retired), by id
	marksOn   bool         // mark cursors are started
	meters    []meter
	meterIdx  map[meter]uint32
	specs     []foldSpec
	specIdx   map[foldSpec]uint32
	markets   []string
	marketIdx map[string]uint32

	index   keyIndex // key → slab index
	slab    accSlab
	buckets map[bucketKey]*bucket
	nextDue int64 // earliest close, mark or expiry
	nextOut int64 // earliest close or mark

	ids        *idSet
	duplicates uint64

	series    map[seriesKey]*seriesState // cumulative series (cumulative.go)
	seriesDue int64                      // earliest expiry of a series

	dirty    []dirtyEntry // keys with late events in the message being applied
	dirtyIdx map[int32]int
	refs     []keyRef   // scratch for sorting keys
	prep     []prepared // scratch: the first passes over a packet
	hasher   keyHasher
	lastProd *prodState // the product of the last event resolved
	sink     uint8      // written by Apply's load passes
}

// bucket holds the keys of one (product, period), open or closed.
type bucket struct {
	prod   *prodState
	period events.Period
	start  int64 // period start, Unix nanoseconds
	due    int64 // period end + allowed lateness, Unix nanoseconds
	expire int64 // period end + max event age
	closed bool
	keys   []int32
	traces []groupTraces // open: the trace contexts of its events, per contract
}

type bucketKey struct {
	prod  *prodState
	start int64
}

const never = math.MaxInt64

// New returns the empty state of cfg.Partition, before the first source message.
func New(cfg Config) *State {
	s := newState(cfg)
	s.loadCatalog(cfg.Catalog)
	if !cfg.MarkFrom.IsZero() {
		s.startCursors(cfg.MarkFrom.UnixNano())
	}
	s.recompute()
	return s
}

func newState(cfg Config) *State {
	s := &State{
		cfg:       cfg,
		subject:   subjects.Events(cfg.Partition),
		prods:     make(map[string]*prodState),
		meterIdx:  make(map[meter]uint32),
		specIdx:   make(map[foldSpec]uint32),
		marketIdx: make(map[string]uint32),
		buckets:   make(map[bucketKey]*bucket),
		ids:       newIDSet(int64(cfg.horizon())),
		dirtyIdx:  make(map[int32]int),
		series:    make(map[seriesKey]*seriesState),
		seriesDue: never,
		nextDue:   never,
		nextOut:   never,
	}
	s.index.reset(minKeySlots)
	return s
}

// LastSeq is the sequence of the last source message applied (0 before the first).
func (s *State) LastSeq() uint64 { return s.lastSeq }

// Clock is the stream time: the latest arrival seen (zero before the first message).
func (s *State) Clock() time.Time {
	if !s.clockSet {
		return time.Time{}
	}
	return time.Unix(0, s.clock).UTC()
}

// NextDue is the earliest stream time at which a period closes or a mark is due: the worker should make sure a
// message (a tick if the partition is idle) arrives at or after it. Zero if nothing is scheduled.
func (s *State) NextDue() time.Time {
	if s.nextOut == never {
		return time.Time{}
	}
	return time.Unix(0, s.nextOut).UTC()
}

// Stats describes the size of a State.
type Stats struct {
	OpenKeys      int    // aggregates of periods not closed yet
	ClosedKeys    int    // aggregates of closed periods, kept for late events
	OpenPeriods   int    // (product, period)s not closed yet
	ClosedPeriods int    // (product, period)s closed and kept
	RememberedIDs int    // event ids in the dedup memory
	DedupBytes    int    // memory of the dedup table
	KeyBytes      int    // estimated memory of the aggregates and their index (excluding unique_count sets)
	Duplicates    uint64 // events ignored as duplicates since New or Restore
	Series        int    // cumulative series remembered
}

// Stats returns the state's current size.
func (s *State) Stats() Stats {
	st := Stats{RememberedIDs: s.ids.used, DedupBytes: s.ids.bytes(), Duplicates: s.duplicates, Series: len(s.series)}
	for _, b := range s.buckets {
		if b.closed {
			st.ClosedPeriods++
			st.ClosedKeys += len(b.keys)
		} else {
			st.OpenPeriods++
			st.OpenKeys += len(b.keys)
		}
	}
	st.KeyBytes = s.keyBytes()
	return st
}

// Sizes used by Stats.KeyBytes.
const (
	accBytes    = int(unsafe.Sizeof(acc{}))
	accExtBytes = int(unsafe.Sizeof(accExt{}))
)

func (s *State) keyBytes() int {
	n := len(s.slab.chunks)<<chunkBits*accBytes + len(s.index.slots)*8
	for _, b := range s.buckets {
		n += cap(b.keys) * 4
		for _, idx := range b.keys {
			if s.slab.at(idx).ext != nil {
				n += accExtBytes
			}
		}
	}
	return n
}
