package connectemu

import (
	"crypto/subtle"
	"net/http"
	"regexp"
	"strings"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// role is what an operation needs from the caller's API key.
type role int

const (
	roleAny      role = iota // reads
	roleVendor               // create, update, upload, submit, delete
	roleProvider             // accept, reject, close, approve-all, reprocess, reconciliations, record and chunk changes, rules
)

// caller is the authenticated actor of a request.
type caller struct {
	user     *usageapi.User
	vendor   bool
	provider bool
}

// tokenID matches the id part of an API key, "SU-NNN-NNN-NNN:secret".
var tokenID = regexp.MustCompile(`^SU-[0-9]{3}-[0-9]{3}-[0-9]{3}`)

// keyScheme starts the Authorization value of an API token: "ApiKey SU-…:…" (Connect's API tokens page).
const keyScheme = "ApiKey "

// authenticate checks the Authorization header: 401 AUTH_001 when it is missing, is not "ApiKey <key>"
// (a bare key is refused, as the legacy SDKs' adding the prefix suggests Connect does), or names a key
// that is not configured.
func (e *Emulator) authenticate(r *http.Request) (caller, error) {
	value := r.Header.Get("Authorization")
	key := strings.TrimSpace(strings.TrimPrefix(value, keyScheme))
	unauthorized := newAPIError(http.StatusUnauthorized, CodeUnauthorized, "API request is unauthorized.")
	if !strings.HasPrefix(value, keyScheme) || key == "" {
		return caller{}, unauthorized
	}
	vendor, provider := keyIn(key, e.opts.APIKeys), keyIn(key, e.opts.ProviderAPIKeys)
	switch {
	case len(e.opts.APIKeys) == 0 && len(e.opts.ProviderAPIKeys) == 0:
		vendor, provider = true, true
	case len(e.opts.ProviderAPIKeys) == 0:
		provider = vendor
	}
	if !vendor && !provider {
		return caller{}, unauthorized
	}
	id := tokenID.FindString(key)
	if id == "" {
		id = "SU-000-000-000"
	}
	return caller{user: &usageapi.User{ID: id, Name: "API token " + id}, vendor: vendor, provider: provider}, nil
}

// allowed answers 403 AUTH_002 when c lacks the role an operation needs.
func (c caller) allowed(need role) error {
	if need == roleVendor && !c.vendor || need == roleProvider && !c.provider {
		return newAPIError(http.StatusForbidden, CodeForbidden, "You do not have permission to perform this action.")
	}
	return nil
}

func stripKeyPrefix(v string) string {
	v = strings.TrimSpace(v)
	if len(v) > 7 && strings.EqualFold(v[:7], "ApiKey ") {
		v = strings.TrimSpace(v[7:])
	}
	return v
}

func keyIn(key string, keys []string) bool {
	for _, k := range keys {
		if subtle.ConstantTimeCompare([]byte(stripKeyPrefix(k)), []byte(key)) == 1 {
			return true
		}
	}
	return false
}
