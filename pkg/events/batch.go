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
func SplitBatch(b []byte, maxEvents int) ([]json.RawMessage, error) {
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '[' {
		if json.Valid(b) {
			return nil, ErrNotArray
		}
		return nil, ErrBadBatchJSON
	}
	if !json.Valid(b) {
		return nil, ErrBadBatchJSON
	}
	var out []json.RawMessage
	i = skipSpace(b, i+1)
	for i < len(b) && b[i] != ']' {
		end := skipValue(b, i)
		if maxEvents > 0 && len(out) == maxEvents {
			return nil, fmt.Errorf("%w: more than %d", ErrTooManyEvents, maxEvents)
		}
		out = append(out, json.RawMessage(b[i:end]))
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return out, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value starting at b[i]; b is valid JSON.
func skipValue(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			i = skipString(b, i)
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
	}
	return i
}

// skipString returns the index of the closing quote of the string at b[i].
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return i
}
