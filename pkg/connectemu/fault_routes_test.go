package connectemu

import (
	"strings"
	"testing"
)

// TestFaultsOnEveryRoute: every operation, provider ones and PUTs included, and the download links take
// injected faults.
func TestFaultsOnEveryRoute(t *testing.T) {
	s := newTestServer(t, Options{})
	paths := map[string][2]string{routeDownloads: {"GET", downloadPrefix + "x"}}
	for _, rt := range s.routes() {
		p := strings.NewReplacer("{id}", "X-1", "{asset}", "AS-1", "{product}", "PRD-1").Replace(rt.pattern)
		paths[rt.name] = [2]string{rt.method, "/public/v1" + p}
	}
	for _, name := range Routes() {
		if err := s.SetFaults(name, Fault{Kind: FaultStatus, Status: 502}); err != nil {
			t.Fatal(err)
		}
		mp := paths[name]
		if r := s.do(t, mp[0], mp[1], "application/json", []byte("{}")); r.status != 502 {
			t.Errorf("%s (%s %s): status %d, want the injected 502", name, mp[0], mp[1], r.status)
		}
		s.ClearFaults()
	}
}
