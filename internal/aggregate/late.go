package aggregate

import (
	"slices"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// dirtyEntry is a closed key that received late events in the message being applied: its value before the
// message and the lineage of the new events.
type dirtyEntry struct {
	idx    int32
	b      *bucket
	had    bool           // the key had events before the message
	qty    events.Decimal // sum, max, min or last before
	n      int            // unique values before
	amount events.Decimal // sum of amounts before
	digest events.Digest  // of the new events
	events int64          // new events
}

// dirtyFor returns the dirty entry of a closed key, recording its value before the first late event of the
// message.
func (s *State) dirtyFor(idx int32, a *acc, b *bucket) *dirtyEntry {
	if a.flags&flagDirty != 0 {
		return &s.dirty[s.dirtyIdx[idx]]
	}
	a.flags |= flagDirty
	d := dirtyEntry{idx: idx, b: b, had: a.events > 0, qty: a.quantity(s.specs[a.spec].scale), n: a.uniqueCount()}
	if amount := a.amount(); amount != nil {
		d.amount = *amount
	}
	s.dirtyIdx[idx] = len(s.dirty)
	s.dirty = append(s.dirty, d)
	return &s.dirty[len(s.dirty)-1]
}

// flushAdjustments emits one adjustment per dirty key, in record order, and clears the dirty set.
func (s *State) flushAdjustments(seq uint64, out *Output) {
	slices.SortFunc(s.dirty, func(x, y dirtyEntry) int {
		return s.compareKeys(&s.slab.at(x.idx).key, &s.slab.at(y.idx).key)
	})
	for i := range s.dirty {
		d := &s.dirty[i]
		a := s.slab.at(d.idx)
		a.flags &^= flagDirty
		if r, ok := s.adjustment(a, d, seq); ok {
			out.Adjustments = append(out.Adjustments, r)
		}
	}
	clear(s.dirty)
	s.dirty = s.dirty[:0]
	clear(s.dirtyIdx)
}

// adjustment builds the next revision of a's key from the late events in d. It reports false when a max, min,
// last or unique_count value and the amount are unchanged: nothing to adjust.
func (s *State) adjustment(a *acc, d *dirtyEntry, seq uint64) (events.PeriodRecord, bool) {
	sp := &s.specs[a.spec]
	k, qty := sp.kind, a.quantity(sp.scale)
	r := s.recordBase(a, d.b, events.RecordAdjustment)
	amount := a.amount()
	if amount != nil {
		delta := amount.Sub(d.amount)
		amount = &delta
	}
	amountSame := amount == nil || amount.IsZero()
	switch {
	case k.replaces():
		if d.had && qty.Cmp(d.qty) == 0 && amountSame {
			return r, false
		}
		r.Mode, r.Quantity = events.ModeReplace, qty
		if d.had {
			prev := d.qty
			r.Previous = &prev
		}
	case k == aggUnique:
		n := a.uniqueCount() - d.n
		if n == 0 && amountSame {
			return r, false
		}
		r.Mode, r.Quantity = events.ModeDelta, events.DecimalFromInt(int64(n))
	case k == aggCount:
		r.Mode, r.Quantity = events.ModeDelta, events.DecimalFromInt(d.events)
	default:
		r.Mode, r.Quantity = events.ModeDelta, qty.Sub(d.qty)
	}
	a.rev++
	r.Revision = int(a.rev)
	r.Amount, r.Events, r.Digest, r.SourceSeq = amount, d.events, d.digest.String(), seq
	return r, true
}
