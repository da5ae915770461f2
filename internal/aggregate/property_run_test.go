package aggregate

import (
	"bytes"
	"slices"

	"pgregory.net/rapid"
)

// partRun is one partition's stream and catalog change: the state switches from cfg0 to cfg1 (Snapshot, then
// Restore with cfg1) right before message switchAt, whatever it was rebuilt from, as the worker switches at
// a committed message.
type partRun struct {
	msgs       []msg
	switchAt   int
	cfg0, cfg1 Config
}

// cfgAt is the configuration of the state after i messages, which a snapshot taken there restores with.
func (pr *partRun) cfgAt(i int) Config {
	if i > pr.switchAt {
		return pr.cfg1
	}
	return pr.cfg0
}

// switchIfDue switches s to cfg1 if message i is the first one after the catalog change.
func (pr *partRun) switchIfDue(t tb, s *State, i int) *State {
	if i == pr.switchAt {
		return restoreAs(t, s, pr.cfg1)
	}
	return s
}

func (pr *partRun) applyMsg(s *State, i int, out *Output) {
	out.Reset()
	if m := pr.msgs[i]; len(m.Events) == 0 {
		s.Advance(m.Seq, m.Arrival, out)
	} else {
		s.Apply(m.Seq, m.Arrival, m.Events, out)
	}
}

// mainRun is an uninterrupted run: per message its output and the duplicates it ignored, and per position
// (messages applied) the state's snapshot.
type mainRun struct {
	outs  [][]byte
	dups  []int
	snaps [][]byte
}

func (r *mainRun) output() []byte { return bytes.Join(r.outs, nil) }

func (pr *partRun) runMain(t *rapid.T) *mainRun {
	r := &mainRun{}
	s := New(pr.cfg0)
	var out Output
	for i := range pr.msgs {
		r.snaps = append(r.snaps, snapshotBytes(t, s))
		s = pr.switchIfDue(t, s, i)
		before := s.Stats().Duplicates
		pr.applyMsg(s, i, &out)
		r.dups = append(r.dups, int(s.Stats().Duplicates-before))
		r.outs = append(r.outs, outputBytes(t, pr.msgs[i].Seq, &out))
	}
	return r
}

// runCrashing runs the stream with crashes. It takes snapshots at random positions; at each crash (a random
// position, after which nothing of the state survives) it restores one of them taken at or before that point,
// or starts afresh, and replays the messages since with their output discarded, as a worker replays up to its
// committed progress; the rebuilt state must be the uninterrupted run's. It returns the output as committed:
// every message's output from the one time it was applied live.
func (pr *partRun) runCrashing(t *rapid.T, main *mainRun) []byte {
	outs := make([][]byte, len(pr.msgs))
	snaps := map[int][]byte{}
	s := New(pr.cfg0)
	var out Output
	for i := range pr.msgs {
		if rapid.IntRange(0, 3).Draw(t, "snapshot") == 0 {
			snaps[i] = snapshotBytes(t, s)
		}
		if i > 0 && rapid.IntRange(0, 4).Draw(t, "crash") == 0 {
			if s = pr.recover(t, snaps, i); !bytes.Equal(snapshotBytes(t, s), main.snaps[i]) {
				t.Fatalf("the state rebuilt at %d differs from the uninterrupted one", i)
			}
		}
		s = pr.switchIfDue(t, s, i)
		pr.applyMsg(s, i, &out)
		outs[i] = outputBytes(t, pr.msgs[i].Seq, &out)
	}
	return bytes.Join(outs, nil)
}

// recover rebuilds the state after c messages from one of snaps taken at or before c, or from a fresh state,
// replaying the messages since with their output discarded.
func (pr *partRun) recover(t *rapid.T, snaps map[int][]byte, c int) *State {
	from := []int{-1} // a fresh state
	for j := range snaps {
		if j <= c {
			from = append(from, j)
		}
	}
	slices.Sort(from)
	j := rapid.SampledFrom(from).Draw(t, "restore from")
	var s *State
	if j < 0 {
		s, j = New(pr.cfg0), 0
	} else {
		s = restoreBytes(t, pr.cfgAt(j), snaps[j])
	}
	var discard Output
	for i := j; i < c; i++ {
		s = pr.switchIfDue(t, s, i)
		pr.applyMsg(s, i, &discard)
	}
	return s
}

func snapshotBytes(t tb, s *State) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := s.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func restoreBytes(t tb, cfg Config, data []byte) *State {
	t.Helper()
	s, err := Restore(cfg, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func outputBytes(t tb, seq uint64, out *Output) []byte {
	var buf bytes.Buffer
	writeOutput(t, &buf, seq, out)
	return buf.Bytes()
}
