package opsapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// Reason codes of error answers. They are stable: scripts match them.
const (
	ReasonUnauthorized     = "unauthorized"       // no key, or a key no operator holds (401)
	ReasonBadRequest       = "bad_request"        // a missing or malformed parameter (400)
	ReasonNotFound         = "not_found"          // what the request names does not exist (404)
	ReasonNotServed        = "not_served"         // no such route here (404)
	ReasonMethodNotAllowed = "method_not_allowed" // (405)
	ReasonConflict         = "conflict"           // the action does not apply in the current state (409)
	ReasonNoOwner          = "no_owner"           // a partition has no owner right now: retry (503)
	ReasonUnavailable      = "unavailable"        // NATS or Connect cannot be reached now: retry (503)
	ReasonTimeout          = "timeout"            // the answer took too long (504)
	ReasonInternal         = "internal"           // anything else (500)
)

// Error is an error answer: the HTTP status, a reason code and a message for a person; Details, when set, is
// more context as JSON (e.g. where a lookup searched).
type Error struct {
	Status  int    `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
	err     error
}

// Error is the message.
func (e *Error) Error() string { return e.Message }

// Unwrap is the cause, when the error was made from one.
func (e *Error) Unwrap() error { return e.err }

// Errorf returns an *Error with status, reason and a formatted message.
func Errorf(status int, reason, format string, args ...any) *Error {
	return &Error{Status: status, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with status and reason whose message is err's.
func Wrap(status int, reason string, err error) *Error {
	return &Error{Status: status, Reason: reason, Message: err.Error(), err: err}
}

// errorBody is the JSON of an error answer.
type errorBody struct {
	Error *Error `json:"error"`
}

// writeError answers err: an *Error as it is, anything else as 500 internal (logged, not shown).
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var e *Error
	if !errors.As(err, &e) {
		log.ErrorContext(r.Context(), "operator API: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = Errorf(http.StatusInternalServerError, ReasonInternal, "internal error; see the service's log")
	}
	writeJSON(w, e.Status, errorBody{Error: e})
}

// writeJSON answers v as indented JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"status":500,"reason":"internal","message":"cannot encode the answer"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
