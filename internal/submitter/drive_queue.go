package submitter

import (
	"container/heap"
	"time"
)

// job is an entry the driver knows: when it is due, and whether a worker is running it.
type job struct {
	key     string
	at      time.Time
	running bool
	again   bool // add was called while running: run again as soon as it finishes
	woken   bool // a file before it was handed over: forget the schedule of its quiet steps (drive_handover.go)
	index   int  // in the queue; -1 when not queued
	memo    memo // the schedule of its quiet steps (drive_quiet.go); only the worker running the job uses it
}

// dueQueue is a min-heap of queued jobs by due time (container/heap).
type dueQueue []*job

func (q dueQueue) Len() int           { return len(q) }
func (q dueQueue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q dueQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}

func (q *dueQueue) Push(x any) {
	j := x.(*job)
	j.index = len(*q)
	*q = append(*q, j)
}

func (q *dueQueue) Pop() any {
	old := *q
	j := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	j.index = -1
	return j
}

// schedule queues j at t, or moves it earlier if it is queued later.
func (q *dueQueue) schedule(j *job, t time.Time) {
	switch {
	case j.index < 0:
		j.at = t
		heap.Push(q, j)
	case t.Before(j.at):
		j.at = t
		heap.Fix(q, j.index)
	}
}

// popDue removes and returns the earliest job if it is due at now; otherwise it returns nil and how long
// until the earliest is due (or -1 when the queue is empty).
func (q *dueQueue) popDue(now time.Time) (*job, time.Duration) {
	if q.Len() == 0 {
		return nil, -1
	}
	if first := (*q)[0]; first.at.After(now) {
		return nil, first.at.Sub(now)
	}
	return heap.Pop(q).(*job), 0
}
