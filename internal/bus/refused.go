package bus

import (
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/usagepipe/usagepipe/internal/redact"
)

// authErrors are nats.go's errors for a server's refusal of the credentials, each with what it means.
var authErrors = []struct {
	err  error
	why  string
	todo string
}{
	{nats.ErrAuthorization, "an unknown user, a wrong password, token or nkey, or credentials the server requires and none given",
		"check --nats-user/--nats-password, --nats-token, --nats-creds or --nats-nkey against the server's authorization"},
	{nats.ErrAuthExpired, "the user's credentials have expired", "renew the --nats-creds file"},
	{nats.ErrAuthRevoked, "the user's credentials were revoked", "get new --nats-creds from the account's operator"},
	{nats.ErrAccountAuthExpired, "the account's credentials have expired", "renew the account's JWT"},
}

// refusedError is a refusal of the credentials: the server's reason, what was presented, what it means.
type refusedError struct {
	reason               error // nats.go's error for the server's -ERR
	presented, why, todo string
}

func (e *refusedError) Error() string {
	return fmt.Sprintf("the NATS server refused the credentials: %v (presented %s; that is %s: %s)",
		e.reason, e.presented, e.why, e.todo)
}

// Is makes errors.Is(err, ErrRefused) true.
func (e *refusedError) Is(target error) bool { return target == ErrRefused }

func (e *refusedError) Unwrap() error { return e.reason }

// refusal turns the last error of a connection that was closed for good into Connect's error: ErrRefused with
// the server's reason when it refused the credentials, else ErrConnectionClosed with the last error.
func refusal(last error, cfg Config) error {
	for _, a := range authErrors {
		if errors.Is(last, a.err) {
			return &refusedError{reason: last, presented: cfg.presented(), why: a.why, todo: a.todo}
		}
	}
	if last != nil {
		return fmt.Errorf("%w: %w", nats.ErrConnectionClosed, last)
	}
	return nats.ErrConnectionClosed
}

// isRefusal reports whether err is a server's refusal of the credentials.
func isRefusal(err error) bool {
	for _, a := range authErrors {
		if errors.Is(err, a.err) {
			return true
		}
	}
	return false
}

// presented names the credentials cfg presents, without their secrets.
func (c Config) presented() string {
	var kinds []string
	if c.User != "" {
		kinds = append(kinds, fmt.Sprintf("user %q", c.User))
	}
	if c.Password != "" {
		kinds = append(kinds, "a password")
	}
	if c.Token != "" {
		kinds = append(kinds, "a token")
	}
	if c.CredsFile != "" {
		kinds = append(kinds, "the creds file "+c.CredsFile)
	}
	if c.NKeySeedFile != "" {
		kinds = append(kinds, "the nkey seed file "+c.NKeySeedFile)
	}
	if redact.HasUserInfo(c.url()) {
		kinds = append(kinds, "user info in the URL")
	}
	switch len(kinds) {
	case 0:
		return "no credentials"
	case 1:
		return kinds[0]
	}
	out := kinds[0]
	for _, k := range kinds[1 : len(kinds)-1] {
		out += ", " + k
	}
	return out + " and " + kinds[len(kinds)-1]
}
