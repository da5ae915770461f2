package lineage

import "encoding/json"

// mustJSON is v as compact JSON (the event types always encode).
func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
