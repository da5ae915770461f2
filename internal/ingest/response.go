package ingest

import (
	"encoding/json"
	"strconv"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// appendResponse appends r exactly as json.NewEncoder(w).Encode(r) writes it (HTML-safe escaping, final
// newline), without reflection: a 500-event answer is most of a request's encoding work otherwise.
func appendResponse(b []byte, r *events.IngestResponse) []byte {
	b = append(b, `{"accepted":`...)
	b = strconv.AppendInt(b, int64(r.Accepted), 10)
	b = append(b, `,"duplicates":`...)
	b = strconv.AppendInt(b, int64(r.Duplicates), 10)
	b = append(b, `,"rejected":`...)
	b = strconv.AppendInt(b, int64(r.Rejected), 10)
	b = append(b, `,"results":`...)
	if r.Results == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range r.Results {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendResult(b, &r.Results[i])
		}
		b = append(b, ']')
	}
	return append(b, "}\n"...)
}

// appendResult writes res with events.Result's field order and omitempty rules.
func appendResult(b []byte, res *events.Result) []byte {
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, int64(res.Index), 10)
	b = appendOptional(b, `,"id":`, res.ID)
	b = appendOptional(b, `,"source":`, res.Source)
	b = append(b, `,"status":`...)
	b = appendString(b, string(res.Status))
	b = appendOptional(b, `,"reason":`, string(res.Reason))
	b = appendOptional(b, `,"field":`, res.Field)
	b = appendOptional(b, `,"message":`, res.Message)
	return append(b, '}')
}

func appendOptional(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	return appendString(append(b, name...), v)
}

// appendString quotes s as encoding/json does by default: strings of printable ASCII without '"', '\\', '<',
// '>' and '&' are copied; any other string is encoded by encoding/json itself.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
