package events

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Sentinel errors of SplitBatch.
var (
	// ErrNotArray: the body is not a JSON array.
	ErrNotArray = errors.New("events: batch is not a JSON array")
	// ErrTooManyEvents: the array has more elements than allowed.
	ErrTooManyEvents = errors.New("events: too many events in batch")
	// ErrBadBatchJSON: the body is not valid JSON.
	ErrBadBatchJSON = errors.New("events: batch is not valid JSON")
)

// SplitBatch returns the elements of a JSON array, each to be decoded on its
// own with DecodeEvent. The elements alias b. maxEvents ≤ 0 means no limit.
// Validity is judged as json.Valid judges it, in the same pass that splits.
func SplitBatch(b []byte, maxEvents int) ([]json.RawMessage, error) {
	var out []json.RawMessage
	err := walkArray(b, maxEvents, func(s *scanner[[]byte], _ int) bool {
		start := s.i
		if !s.valid(1) {
			return false
		}
		out = append(out, b[start:s.i])
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DecodeBatchString has the errors of SplitBatch([]byte(s), maxEvents) and
// calls each with the index and the DecodeEventString result of every
// element, in order, but reads s once: each event is decoded in place, and
// only an element that is not a well-formed event is read again (to tell a
// rejected event from a broken array). The events' strings are substrings of
// s. On error, the calls already made are void: discard their results.
func DecodeBatchString(s string, maxEvents int, each func(i int, e Event, rej *Rejection)) error {
	return walkArray(s, maxEvents, func(sc *scanner[string], i int) bool {
		start := sc.i
		e, rej, ok := decodeAt(sc)
		if !ok || sc.i-start > MaxEventBytes {
			sc.i = start
			if !sc.valid(1) {
				return false
			}
			e, rej = decodeEvent(s[start:sc.i])
		}
		each(i, e, rej)
		return true
	})
}

// walkArray checks that b is one JSON array, calling element for each of its
// first maxEvents elements with the scanner at the element; element steps
// over it, or returns false when it is not valid JSON. A body that is not
// valid JSON (as json.Valid judges it) is ErrBadBatchJSON, whatever its
// length; a valid one with more elements is ErrTooManyEvents.
func walkArray[T text](b T, maxEvents int, element func(s *scanner[T], i int) bool) error {
	s := scanner[T]{b: b}
	if s.peek() != '[' {
		if s.valid(0) && s.end() == nil {
			return ErrNotArray
		}
		return ErrBadBatchJSON
	}
	s.i++
	tooMany := false
	if !s.consume(']') {
		for n := 0; ; n++ {
			s.ws()
			if maxEvents > 0 && n >= maxEvents {
				tooMany = true
				if !s.valid(1) {
					return ErrBadBatchJSON
				}
			} else if !element(&s, n) {
				return ErrBadBatchJSON
			}
			if s.consume(',') {
				continue
			}
			if s.consume(']') {
				break
			}
			return ErrBadBatchJSON
		}
	}
	if s.end() != nil {
		return ErrBadBatchJSON
	}
	if tooMany {
		return fmt.Errorf("%w: more than %d", ErrTooManyEvents, maxEvents)
	}
	return nil
}
