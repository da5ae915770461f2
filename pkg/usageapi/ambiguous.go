package usageapi

import (
	"context"
	"errors"
	"fmt"
)

// ErrAmbiguousCreate is wrapped by the error of a create whose outcome is unknown: the file may exist.
// CreateFile wraps it when no HTTP answer came (a network failure, or the context ending while the request
// was in flight), when Connect answered 5xx, when a 2xx answer was malformed (ErrMalformedAnswer: empty,
// null, HTML, no id, …), or when the answer was a redirect (ErrRedirected: a proxy may have passed the
// request on before answering it). FindOrCreateFile wraps it when one of its creates may have made the file
// (or, with WaitLag, an earlier call's) and the call ended before a lookup settled it. A refusal (4xx,
// including 429) does not wrap it: nothing was made.
//
// The error also wraps its cause, so StatusOf and Retryable still see the failure. A caller that gets it
// must look the file up (FindFiles or FindOrCreateFile with WaitLag) before it creates again, since a list
// may lag behind the create (RetryPolicy.ListLag).
var ErrAmbiguousCreate = errors.New("usageapi: the create may have happened")

// ambiguousCreate wraps err, the failure of a create that was sent, with ErrAmbiguousCreate unless it says
// the create was refused or never reached Connect (a 4xx; PermanentNetwork). Anything else may hide a
// created file: no answer, a 5xx, a malformed 2xx, a 3xx (whatever answered it may have served it first).
func ambiguousCreate(err error) error {
	var apiErr *APIError
	switch {
	case err == nil, errors.Is(err, ErrAmbiguousCreate):
		return err
	case errors.As(err, &apiErr) && apiErr.Status >= 400 && apiErr.Status < 500, PermanentNetwork(err):
		return err
	}
	return fmt.Errorf("%w: %w", ErrAmbiguousCreate, err)
}

// notSent is the error of a create that was not sent because ctx had ended already: not ambiguous.
func notSent(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("usageapi: %s: not sent: %w", op, err)
	}
	return nil
}
