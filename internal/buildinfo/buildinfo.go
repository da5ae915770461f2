// Package buildinfo says which build of usagepipe is running: the main module's version, the commit it was
// built from and that commit's time, as the Go toolchain records them in the binary (debug.ReadBuildInfo:
// the module version, and the vcs.revision, vcs.time and vcs.modified settings `go build` stamps inside a git
// checkout). A build without them (a Docker build whose context has no .git, `go test`) can be given them
// at link time: -ldflags "-X github.com/usagepipe/usagepipe/internal/buildinfo.revision=<commit>
// -X github.com/usagepipe/usagepipe/internal/buildinfo.buildTime=<RFC 3339>" (deploy/Dockerfile's build
// arguments). Every binary prints it with --version; telemetry exports it as service.version and the
// usagepipe_build_info metric.
//
// # Concurrency
//
// Read is safe for concurrent use; an Info is a plain value.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
)

// Set at link time (-ldflags -X) when the toolchain cannot stamp the build (see the package doc).
var (
	revision  string
	buildTime string
)

// Unknown is what a part of the build the binary does not record reads as.
const Unknown = "unknown"

// Info is one build of usagepipe.
type Info struct {
	Version   string // the main module's version ("v1.4.0", a pseudo-version, or "(devel)" for a local build)
	Revision  string // the commit (vcs.revision), or Unknown
	Time      string // the commit's time (vcs.time, RFC 3339), or the link-time build time, or Unknown
	Modified  bool   // built from a checkout with uncommitted changes (vcs.modified)
	GoVersion string // the Go toolchain that built it
}

var (
	once sync.Once
	info Info
)

// Read returns the running binary's build.
func Read() Info {
	once.Do(func() {
		bi, ok := debug.ReadBuildInfo()
		info = FromBuildInfo(bi, ok)
	})
	return info
}

// FromBuildInfo is the Info of bi (ok false: the binary records nothing), with the link-time values
// filling what the toolchain did not stamp.
func FromBuildInfo(bi *debug.BuildInfo, ok bool) Info {
	i := Info{Version: "(devel)", Revision: revision, Time: buildTime, GoVersion: runtime.Version()}
	if ok && bi != nil {
		if bi.Main.Version != "" {
			i.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				i.Revision = s.Value
			case "vcs.time":
				i.Time = s.Value
			case "vcs.modified":
				i.Modified = s.Value == "true"
			}
		}
	}
	if i.Revision == "" {
		i.Revision = Unknown
	}
	if i.Time == "" {
		i.Time = Unknown
	}
	return i
}

// ServiceVersion is the build as one word, for OpenTelemetry's service.version: the module version, and the
// commit's first 12 characters (with "-dirty" when modified) when the version does not name it.
func (i Info) ServiceVersion() string {
	if i.Revision == Unknown {
		return i.Version
	}
	short := i.Revision[:min(12, len(i.Revision))]
	if i.Modified {
		short += "-dirty"
	}
	return i.Version + "+" + short
}

// String is the --version line of the named binary.
func (i Info) String(name string) string {
	modified := ""
	if i.Modified {
		modified = " (modified)"
	}
	return fmt.Sprintf("%s version %s commit %s%s time %s %s", name, i.Version, i.Revision, modified, i.Time, i.GoVersion)
}
