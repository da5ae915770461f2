package usageapitest

import (
	"cmp"
	"net/http/httptest"
	"testing"

	"github.com/usagepipe/usagepipe/pkg/connectemu"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// APIKey is the key the client of a Server sends when Options.APIKeys names none (the emulator then takes
// any "ApiKey …" header).
const APIKey = "SU-000-000-000:usageapitest"

// Server is a running emulator reached over real HTTP, and a client of it.
type Server struct {
	*connectemu.Emulator
	// HTTP is the test server the emulator's handler runs in.
	HTTP *httptest.Server
	// URL is the API's base URL, HTTP.URL + Options.PathPrefix (connectemu.DefaultPathPrefix by default).
	URL string
	// Client calls URL with the first of Options.APIKeys (APIKey when there is none) and clientOpts.
	Client *usageapi.Client
}

// NewServer starts an in-memory emulator with opts (Options.StatePath is ignored, as by connectemu.New)
// behind an httptest server, and a client of it configured by clientOpts. Both are closed when t ends; a
// client that cannot be built fails t.
func NewServer(t testing.TB, opts connectemu.Options, clientOpts ...usageapi.Option) *Server {
	t.Helper()
	em := connectemu.New(opts)
	srv := httptest.NewServer(em.Handler())
	t.Cleanup(func() { srv.Close(); _ = em.Close() })
	prefix := cmp.Or(opts.PathPrefix, connectemu.DefaultPathPrefix)
	key := APIKey
	if len(opts.APIKeys) > 0 {
		key = opts.APIKeys[0]
	}
	s := &Server{Emulator: em, HTTP: srv, URL: srv.URL + prefix}
	var err error
	if s.Client, err = usageapi.New(s.URL, key, clientOpts...); err != nil {
		t.Fatalf("usageapitest: client: %v", err)
	}
	return s
}
