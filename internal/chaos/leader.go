package chaos

import (
	"bufio"
	"io"
	"os"
	"strings"

	"github.com/usagepipe/usagepipe/internal/childproc"
)

// The JetStream meta leader, as the nodes' server logs (usagepipe nats --logs) announce it. The harness has
// no other window on it: the nodes serve no monitoring endpoint, and only internal/bus talks to NATS. The
// lines are those of the pinned nats-server; a node restart (the "=== start" line childproc writes) forgets
// what the node believed before.
const (
	selfMetaLeader = "Self is new JetStream cluster metadata leader"
	newMetaLeader  = "JetStream cluster new metadata leader: " // + name[/cluster]
	restartMarker  = childproc.StartLine
)

// believedMetaLeader returns the server name a node's log last names as the meta leader since the node's
// last start ("" when it names none); self is the node's own server name.
func believedMetaLeader(log io.Reader, self string) string {
	leader := ""
	sc := bufio.NewScanner(log)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, restartMarker):
			leader = ""
		case strings.Contains(line, selfMetaLeader):
			leader = self
		default:
			if _, rest, ok := strings.Cut(line, newMetaLeader); ok {
				leader, _, _ = strings.Cut(strings.TrimSpace(rest), "/")
			}
		}
	}
	return leader
}

// metaLeader returns the index of the NATS node that most running nodes believe is the meta leader, -1
// when no running node names a running one.
func (s *system) metaLeader() int {
	votes := make([]int, len(s.nats))
	for _, p := range s.nats {
		if !p.Running() {
			continue
		}
		if i := s.natsIndex(readBelief(p.LogPath(), natsServerName(p.Name()))); i >= 0 && s.nats[i].Running() {
			votes[i]++
		}
	}
	best := -1
	for i, v := range votes {
		if v > 0 && (best < 0 || v > votes[best]) {
			best = i
		}
	}
	return best
}

// readBelief is believedMetaLeader of a log file ("" when it cannot be read).
func readBelief(path, self string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	return believedMetaLeader(f, self)
}

// natsServerName is the --name a node runs with.
func natsServerName(node string) string { return "chaos-" + node }

// natsIndex returns the index of the node with server name name, -1 if none.
func (s *system) natsIndex(name string) int {
	for i, p := range s.nats {
		if natsServerName(p.Name()) == name {
			return i
		}
	}
	return -1
}
