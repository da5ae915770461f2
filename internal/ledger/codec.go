package ledger

import (
	"encoding/json"
	"fmt"
)

// Encode is the stored form of an entry: JSON (the field names are the json tags of Entry).
func Encode(e *Entry) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("ledger: encode entry %s: %w", e.Key, err)
	}
	return b, nil
}

// Decode reads an entry from its stored form.
func Decode(b []byte) (*Entry, error) {
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("ledger: decode entry: %w", err)
	}
	return &e, nil
}
