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
	err := splitArray(b, maxEvents, func(start, end int) { out = append(out, b[start:end]) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SplitBatchString is SplitBatch for a body held in a string, with the same
// errors: it appends the elements, substrings of s, to dst (to be decoded
// with DecodeEventString) and returns the extended slice.
func SplitBatchString(dst []string, s string, maxEvents int) ([]string, error) {
	n := len(dst)
	err := splitArray(s, maxEvents, func(start, end int) { dst = append(dst, s[start:end]) })
	if err != nil {
		return dst[:n], err
	}
	return dst, nil
}

// splitArray validates b as one JSON array and calls element with the bounds
// of each of its first maxEvents elements. A body that is not valid JSON is
// ErrBadBatchJSON, whatever its length; a valid one with more elements is
// ErrTooManyEvents.
func splitArray[T text](b T, maxEvents int, element func(start, end int)) error {
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
			start := s.i
			if !s.valid(1) {
				return ErrBadBatchJSON
			}
			if maxEvents > 0 && n >= maxEvents {
				tooMany = true
			} else {
				element(start, s.i)
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
