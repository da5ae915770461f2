package deploy

import (
	"os"
	"path"
	"slices"
	"strings"
	"testing"
)

// stage is one FROM … section of the Dockerfile: its name and its instructions, each split into fields.
type stage struct {
	base, name string
	lines      [][]string
}

// dockerfileStages parses the Dockerfile into its stages (comments and blank lines left out; the file has
// no line continuations, which the parse refuses).
func dockerfileStages(t *testing.T) []stage {
	t.Helper()
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var stages []stage
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		switch {
		case len(f) == 0 || strings.HasPrefix(f[0], "#"):
		case strings.HasSuffix(strings.TrimSpace(line), "\\"):
			t.Fatalf("Dockerfile: line continuations are not parsed here: %q", line)
		case f[0] == "FROM":
			s := stage{base: f[1]}
			if len(f) == 4 && strings.EqualFold(f[2], "AS") {
				s.name = f[3]
			}
			stages = append(stages, s)
		case len(stages) > 0:
			stages[len(stages)-1].lines = append(stages[len(stages)-1].lines, f)
		}
	}
	if len(stages) == 0 {
		t.Fatal("Dockerfile: no FROM")
	}
	return stages
}

// nonrootIDs are the names and ids of distroless's nonroot user and group.
var nonrootIDs = []string{"nonroot", "65532"}

// runsAsNonroot reports whether the stage's processes run as distroless's nonroot user: its last USER, else
// the base image's default (the :nonroot tags).
func (s stage) runsAsNonroot() bool {
	user := ""
	if strings.HasSuffix(s.base, ":nonroot") {
		user = "nonroot"
	}
	for _, f := range s.lines {
		if f[0] == "USER" && len(f) > 1 {
			user, _, _ = strings.Cut(f[1], ":")
		}
	}
	return slices.Contains(nonrootIDs, user)
}

// nonrootCopy is a COPY --from=<stage> --chown=<nonroot>:<nonroot> of the final stage.
type nonrootCopy struct{ from, src, dest string }

// nonrootCopies lists the final stage's COPYs from another stage whose files the nonroot user owns.
func (s stage) nonrootCopies() []nonrootCopy {
	var out []nonrootCopy
	for _, f := range s.lines {
		if f[0] != "COPY" {
			continue
		}
		var c nonrootCopy
		owned, args := false, []string{}
		for _, a := range f[1:] {
			switch {
			case strings.HasPrefix(a, "--from="):
				c.from = strings.TrimPrefix(a, "--from=")
			case strings.HasPrefix(a, "--chown="):
				user, group, _ := strings.Cut(strings.TrimPrefix(a, "--chown="), ":")
				owned = slices.Contains(nonrootIDs, user) && slices.Contains(nonrootIDs, group)
			case !strings.HasPrefix(a, "--"):
				args = append(args, a)
			}
		}
		if owned && c.from != "" && len(args) == 2 {
			c.src, c.dest = args[0], path.Clean(args[1])
			out = append(out, c)
		}
	}
	return out
}

// makesDir reports whether a RUN of the stage creates dir with mkdir.
func (s stage) makesDir(dir string) bool {
	return slices.ContainsFunc(s.lines, func(f []string) bool {
		return f[0] == "RUN" && slices.Contains(f, "mkdir") && slices.Contains(f, dir)
	})
}

// namedVolumeTargets returns the mount points of the service's named volumes (bind mounts, whose source is
// a host path, keep the host's ownership and are left out).
func namedVolumeTargets(s service) []string {
	var out []string
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && !strings.HasPrefix(parts[0], ".") && !strings.HasPrefix(parts[0], "/") {
			out = append(out, path.Clean(parts[1]))
		}
	}
	return out
}

// TestVolumesOfNonrootServicesAreWritable: Docker fills a fresh named volume with the image's directory at
// its mount point, owner included; when the image has no such directory the volume root belongs to root and
// a service running as nonroot (uid 65532) cannot write its state there. Every named volume of a service
// built from the Dockerfile must therefore be a directory the final stage copies in with the nonroot owner,
// made by a mkdir in the stage it is copied from.
func TestVolumesOfNonrootServicesAreWritable(t *testing.T) {
	stages := dockerfileStages(t)
	final := stages[len(stages)-1]
	if !final.runsAsNonroot() {
		t.Fatalf("the final stage (FROM %s) does not run as nonroot; this test assumes it does", final.base)
	}
	owned := map[string]nonrootCopy{}
	for _, c := range final.nonrootCopies() {
		owned[c.dest] = c
	}
	checked := 0
	for name, s := range loadCompose(t).Services {
		if s.Build == nil || (s.User != "" && !slices.Contains(nonrootIDs, strings.Split(s.User, ":")[0])) {
			continue
		}
		for _, target := range namedVolumeTargets(s) {
			checked++
			c, ok := owned[target]
			if !ok {
				t.Errorf("service %s: volume target %s is not made in the image with the nonroot owner (COPY --from=… --chown=65532:65532)", name, target)
				continue
			}
			if !slices.ContainsFunc(stages, func(st stage) bool { return st.name == c.from && st.makesDir(c.src) }) {
				t.Errorf("service %s: volume target %s is copied from %s:%s, which no RUN mkdir of that stage makes", name, target, c.from, c.src)
			}
		}
	}
	if checked == 0 {
		t.Error("no service built from the Dockerfile mounts a named volume: the emulator's state volume is gone?")
	}
}

// TestDockerignoreKeepsHistoryStateAndBinariesOut: the build context is the repository (COPY . .).
func TestDockerignoreKeepsHistoryStateAndBinariesOut(t *testing.T) {
	b, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	ignored := map[string]bool{}
	for line := range strings.Lines(string(b)) {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
			ignored[strings.Trim(l, "/")] = true
		}
	}
	want := []string{".git"}
	g, err := os.ReadFile("../.gitignore")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(g)) {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "!") {
			want = append(want, strings.Trim(l, "/"))
		}
	}
	for _, w := range want {
		if !ignored[w] {
			t.Errorf(".dockerignore does not exclude %s (the build context would carry it)", w)
		}
	}
}
