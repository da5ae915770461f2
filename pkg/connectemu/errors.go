package connectemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// Error codes the emulator answers with. Connect documents only the body shape
// ({"error_code","errors"}) and AUTH_001/VAL_001/SYS_001 from other namespaces; the rest are the
// emulator's own choice (see docs/emulator.md).
const (
	CodeUnauthorized = "AUTH_001" // 401: missing or unknown API key
	CodeForbidden    = "AUTH_002" // 403: the key lacks the vendor or provider role of the operation
	CodeValidation   = "VAL_001"  // 400: bad body field, unknown product/contract, unreadable workbook
	CodeTransition   = "USG_001"  // 400: the operation is not allowed in the object's status
	CodeRQL          = "RQL_001"  // 400: a list query that cannot be parsed or names an unknown field
	CodeNotFound     = "NTF_001"  // 404: no such object
	CodeSystem       = "SYS_001"  // 5xx: injected server failure
	CodeThrottled    = "SYS_002"  // 429: injected throttling
)

// apiError is an error the emulator answers with: an HTTP status and the usage namespace's error body.
type apiError struct {
	status int
	code   string
	msgs   []string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %v", e.status, e.code, e.msgs) }

func newAPIError(status int, code string, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msgs: []string{fmt.Sprintf(format, args...)}}
}

func notFound(kind, id string) *apiError {
	return newAPIError(http.StatusNotFound, CodeNotFound, "%s %s not found.", kind, id)
}

func invalid(format string, args ...any) *apiError {
	return newAPIError(http.StatusBadRequest, CodeValidation, format, args...)
}

// illegal answers an operation that the state machine does not allow from the current status.
func illegal(kind, id string, status any, op string) *apiError {
	return newAPIError(http.StatusBadRequest, CodeTransition,
		"%s %s is in status %s: %s is not allowed.", kind, id, status, op)
}

// nullBodyError is the real service's answer to an action posted with the JSON body null: a 500 whose
// error_code is null (clients must send {}).
type nullBodyError struct{}

func (*nullBodyError) Error() string { return "JSON body null" }

// writeError answers err: an *apiError as itself, anything else as 500 SYS_001.
func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	var nb *nullBodyError
	if errors.As(err, &nb) {
		writeJSON(w, http.StatusInternalServerError, map[string]any{
			"params": nil, "errors": []string{"'NoneType' object does not support item assignment"}, "error_code": nil,
		})
		return
	}
	if !errors.As(err, &ae) {
		ae = newAPIError(http.StatusInternalServerError, CodeSystem, "Internal error: %v", err)
	}
	writeJSON(w, ae.status, usageapi.ErrorBody{ErrorCode: ae.code, Errors: ae.msgs})
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(usageapi.ErrorBody{ErrorCode: CodeSystem, Errors: []string{err.Error()}})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
