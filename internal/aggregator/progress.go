package aggregator

import (
	"encoding/json"
	"fmt"
)

// progress is the first message of every commit, on usage.agg.progress.<p>. Its stream sequence is the fence of
// the partition's next commit. It covers the source messages From..To (stream sequences of usage.events.<p>;
// From is the first message after the previous commit's To).
//
// A commit with more output messages than one atomic batch can hold is written as Parts sequential batches, each
// with its own progress record (Part 1..Parts) and fenced on the previous one; Emitted counts the output messages
// of (From, To) stored so far, including this part's. A progress record with Part < Parts is incomplete: the next
// owner rebuilds the state at From-1, re-derives the outputs of From..To (the fold is deterministic) and commits
// the rest, skipping the first Emitted output messages, folding From..To under the configuration named by Config
// (whatever its own is: see history.go).
type progress struct {
	Partition   int    `json:"partition"`
	After       uint64 `json:"after"` // the committed To this commit continues from (0 in records that predate it)
	From        uint64 `json:"from"`
	To          uint64 `json:"to"`
	Part        int    `json:"part"`
	Parts       int    `json:"parts"`
	Emitted     int    `json:"emitted"`
	Messages    int    `json:"messages"`
	Events      int    `json:"events"`
	Closed      int    `json:"closed"`
	Adjustments int    `json:"adjustments"`
	Marks       int    `json:"marks"`
	DeadLetters int    `json:"dead_letters"`
	Member      string `json:"member,omitempty"`      // the committing worker's member id
	Incarnation string `json:"incarnation,omitempty"` // which run of that member (random per Worker)
	Config      string `json:"config,omitempty"`      // digest of the fold configuration From..To were folded under
}

// complete reports whether every part of the commit that p belongs to is stored.
func (p progress) complete() bool { return p.Part >= p.Parts }

// base is the source sequence whose state the next owner must rebuild before going on: To for a complete
// commit, From-1 for an incomplete one (whose outputs are re-derived from From..To).
func (p progress) base() uint64 {
	if p.complete() || p.From == 0 {
		return p.To
	}
	return p.From - 1
}

// sameCommit reports whether q records the same part of the same commit as p (used after an ambiguous commit).
func (p progress) sameCommit(q progress) bool {
	return p.Partition == q.Partition && p.From == q.From && p.To == q.To && p.Part == q.Part && p.Parts == q.Parts
}

func decodeProgress(data []byte) (progress, error) {
	var p progress
	if err := json.Unmarshal(data, &p); err != nil {
		return progress{}, fmt.Errorf("decode progress: %w", err)
	}
	if p.Parts < 1 || p.Part < 1 || p.To < p.From {
		return progress{}, fmt.Errorf("decode progress: inconsistent record %+v", p)
	}
	return p, nil
}
