package usageapi

import "context"

// confirmFunc reads an object back after a retried request was refused, and reports whether the
// request had already taken effect (its answer lost). It runs with a context marked withinRetry.
type confirmFunc[T any] func(ctx context.Context) (*T, bool, error)

// callConfirmed performs r with retries, for requests that Connect refuses (4xx) once they have
// taken effect: state transitions and closes. When a retry (not the first attempt) is refused,
// confirm decides whether the earlier attempt succeeded; if so the call succeeds.
func callConfirmed[T any](ctx context.Context, c *Client, r *request, confirm confirmFunc[T]) (*T, error) {
	inner := withinRetry(ctx)
	return retry(ctx, c, r.op, func(n int) (*T, error) {
		out := new(T)
		_, err := c.do(ctx, r, out)
		if err == nil {
			return out, nil
		}
		if n == 1 || !refused(err) {
			return nil, err
		}
		v, done, cerr := confirm(inner)
		switch {
		case cerr == nil && done:
			c.log.InfoContext(ctx, "usageapi: a retried request had already taken effect", "op", r.op, "path", r.path)
			return v, nil
		case cerr != nil && Retryable(cerr):
			return nil, cerr
		}
		return nil, err
	})
}

// refused reports whether err is a 4xx answer other than 429: the request was read and refused.
func refused(err error) bool {
	s := StatusOf(err)
	return s >= 400 && s < 500 && s != 429
}
