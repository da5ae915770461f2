package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	stamped := &debug.BuildInfo{Main: debug.Module{Path: "github.com/usagepipe/usagepipe", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"},
			{Key: "vcs.modified", Value: "true"}}}
	i := FromBuildInfo(stamped, true)
	if i.Version != "v1.4.0" || i.Revision != "0123456789abcdef0123" || i.Time != "2026-12-01T10:00:00Z" || !i.Modified {
		t.Fatalf("stamped: %+v", i)
	}
	if v := i.ServiceVersion(); v != "v1.4.0+0123456789ab-dirty" {
		t.Errorf("service.version %q", v)
	}
	if s := i.String("ingest"); !strings.HasPrefix(s, "ingest version v1.4.0 commit 0123456789abcdef0123 (modified) time 2026-12-01T10:00:00Z go") {
		t.Errorf("--version line %q", s)
	}
	bare := FromBuildInfo(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true)
	if bare.Revision != Unknown || bare.Time != Unknown || bare.ServiceVersion() != "(devel)" {
		t.Errorf("unstamped: %+v, %q", bare, bare.ServiceVersion())
	}
	revision, buildTime = "fedcba", "2026-12-02T00:00:00Z"
	defer func() { revision, buildTime = "", "" }()
	if linked := FromBuildInfo(nil, false); linked.Revision != "fedcba" || linked.Time != "2026-12-02T00:00:00Z" || linked.Version != "(devel)" {
		t.Errorf("link-time values: %+v", linked)
	}
}
