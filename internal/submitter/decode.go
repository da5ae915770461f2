package submitter

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// decodeLines decodes a message of JSON lines (the aggregator packs several values of one subject into one
// message).
func decodeLines[T any](b []byte) ([]T, error) {
	var out []T
	for line := range bytes.SplitSeq(b, []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(line, &v); err != nil {
			return nil, fmt.Errorf("submitter: decode line: %w", err)
		}
		out = append(out, v)
	}
	return out, nil
}
