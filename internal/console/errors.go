package console

import (
	"errors"
	"net/http"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/opsapi"
)

// notFoundOr is a 404 saying what is not there when err is bus.ErrNotFound, else err.
func notFoundOr(err error, format string, args ...any) error {
	if errors.Is(err, bus.ErrNotFound) {
		return opsapi.Errorf(http.StatusNotFound, opsapi.ReasonNotFound, format, args...)
	}
	return err
}

// badRequest is a 400 saying what is wrong with the request.
func badRequest(format string, args ...any) error {
	return opsapi.Errorf(http.StatusBadRequest, opsapi.ReasonBadRequest, format, args...)
}
