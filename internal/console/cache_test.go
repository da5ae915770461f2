package console

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/usagepipe/usagepipe/internal/status"
)

// countingStatus answers reports once released, counting the reads.
type countingStatus struct {
	reads   atomic.Int32
	release chan struct{}
}

func (s *countingStatus) Status(context.Context) (*status.Report, error) {
	n := s.reads.Add(1)
	<-s.release
	return &status.Report{Partitions: int(n)}, nil
}

func (s *countingStatus) Periods(context.Context, status.PeriodQuery) (*status.PeriodPage, error) {
	return nil, nil
}

// TestReportCacheOneReadForEveryViewer: viewers asking at once share one read in flight; within the TTL they
// get that report; after it, one new read.
func TestReportCacheOneReadForEveryViewer(t *testing.T) {
	src := &countingStatus{release: make(chan struct{})}
	var now atomic.Int64
	rc := newReportCache(src, 2*time.Second, func() time.Time { return time.Unix(0, now.Load()) })
	var wg sync.WaitGroup
	got := make([]int, 10)
	for i := range got {
		wg.Go(func() {
			r, err := rc.get(context.Background())
			if err == nil {
				got[i] = r.Partitions
			}
		})
	}
	for src.reads.Load() == 0 {
		time.Sleep(time.Millisecond) // the first viewer's read has started
	}
	close(src.release)
	wg.Wait()
	for i, n := range got {
		if n != 1 {
			t.Errorf("viewer %d got report %d, want the one read (1)", i, n)
		}
	}
	if r, _ := rc.get(context.Background()); r.Partitions != 1 || src.reads.Load() != 1 {
		t.Errorf("within the TTL: report %d after %d reads", r.Partitions, src.reads.Load())
	}
	now.Add(int64(3 * time.Second))
	if r, _ := rc.get(context.Background()); r.Partitions != 2 {
		t.Errorf("after the TTL: report %d, want a new read", r.Partitions)
	}
}
