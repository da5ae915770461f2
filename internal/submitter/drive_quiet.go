package submitter

import (
	"bytes"
	"time"

	"github.com/usagepipe/usagepipe/internal/ledger"
)

// A step that finds nothing new (a file still processing or still pending at the provider, a supplement's
// gate still closed) changes only the entry's schedule: its count of polls and when to look next. Such a
// quiet step is not written to the ledger: the running driver keeps the schedule in memory (memo), valid
// as long as the ledger still holds the revision the step read, so a long wait costs one Connect read per
// poll and no ledger write (the lease is still renewed by the claim, every half --lease-ttl). Nothing is
// lost: the ledger keeps the last step that found something, and a restarted submitter, or another member
// once the lease has expired, resumes from it; it polls at once and backs off again from the count stored
// there, which changes when the file is read, never what is reported.

// memo is the schedule of an entry's quiet steps, kept by its driver job, for ledger revision rev.
type memo struct {
	rev    uint64
	polls  int
	nextAt time.Time
}

// recall puts the schedule kept for revision rev back on e, read at rev; a memo of another revision (the
// entry was written since) is dropped.
func (m *memo) recall(e *ledger.Entry, rev uint64) {
	if m.rev != rev {
		*m = memo{}
		return
	}
	e.Polls, e.NextAt = m.polls, m.nextAt
}

// keep remembers e's schedule for revision rev.
func (m *memo) keep(e *ledger.Entry, rev uint64) {
	*m = memo{rev: rev, polls: e.Polls, nextAt: e.NextAt}
}

// durable is what a step must write: the entry without its schedule (polls, next attempt) and lease.
func durable(e *ledger.Entry) []byte {
	c := *e
	c.Polls, c.NextAt, c.LeaseUntil = 0, time.Time{}, time.Time{}
	b, _ := ledger.Encode(&c) // an entry always encodes (the ledger write would fail the same way)
	return b
}

// quiet reports whether a step that started from before found nothing new.
func quiet(before []byte, e *ledger.Entry, err error) bool {
	return err == nil && bytes.Equal(before, durable(e))
}
