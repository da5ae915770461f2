package bus

// Header is a message's header: exact, case-sensitive keys like nats.Header (unlike http.Header, keys are not
// canonicalised, so "traceparent" stays lowercase).
type Header map[string][]string

// HeaderMsgID is the JetStream de-duplication header.
const HeaderMsgID = "Nats-Msg-Id"

// Get returns the first value of key, or "".
func (h Header) Get(key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Set replaces the values of key with value. h must not be nil.
func (h Header) Set(key, value string) { h[key] = []string{value} }

// Add appends value to key's values. h must not be nil.
func (h Header) Add(key, value string) { h[key] = append(h[key], value) }

// Values returns all values of key.
func (h Header) Values(key string) []string { return h[key] }

// Del removes key.
func (h Header) Del(key string) { delete(h, key) }

// Clone returns a deep copy of h (nil for nil).
func (h Header) Clone() Header {
	if h == nil {
		return nil
	}
	c := make(Header, len(h))
	for k, v := range h {
		c[k] = append([]string(nil), v...)
	}
	return c
}
