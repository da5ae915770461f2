package parked

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/events/subjects"
)

// recordsStillMiscounted compares, for e's period, the closed records USAGE_AGG holds with what the last mark
// of every partition counts, as the planner does; it says how they still differ ("" when they agree).
func (s *Service) recordsStillMiscounted(ctx context.Context, e *ledger.Entry) (string, error) {
	marks, partitions, err := s.lastMarks(ctx, e)
	if err != nil {
		return "", err
	}
	if partitions == 0 || len(marks) < partitions {
		return fmt.Sprintf("only %d of %d partitions have marked period %s", len(marks), partitions, e.PeriodStart.UTC().Format("2006-01-02T15:04:05Z")), nil
	}
	want := 0
	for _, m := range marks {
		want += m.Records
	}
	have, err := s.countRecords(ctx, e)
	if err != nil {
		return "", err
	}
	if have != want {
		return fmt.Sprintf("USAGE_AGG still holds %d closed records of the period, its marks count %d", have, want), nil
	}
	return "", nil
}

// lastMarks reads the newest mark of each partition for e's period, and P.
func (s *Service) lastMarks(ctx context.Context, e *ledger.Entry) (map[int]events.PartitionMark, int, error) {
	filter := subjects.Marks.Period(e.Product, e.Contract, e.PeriodStart)
	marks, partitions := map[int]events.PartitionMark{}, 0
	err := s.agg.Read(ctx, bus.StreamAgg, bus.ReadOptions{Filters: []string{filter}}, func(m bus.Msg) error {
		return eachLine(m.Data, func(line []byte) error {
			var x events.PartitionMark
			if err := json.Unmarshal(line, &x); err != nil {
				return err
			}
			if x.Product == e.Product && x.Contract == e.Contract && x.PeriodStart.Equal(e.PeriodStart) {
				marks[x.Partition], partitions = x, x.Partitions
			}
			return nil
		})
	})
	if err != nil {
		return nil, 0, fmt.Errorf("parked: read %s: %w", filter, err)
	}
	return marks, partitions, nil
}

// countRecords counts the distinct closed records of e's period in USAGE_AGG.
func (s *Service) countRecords(ctx context.Context, e *ledger.Entry) (int, error) {
	filter := subjects.Records.Period(e.Product, e.Contract, e.PeriodStart)
	seen := map[string]bool{}
	err := s.agg.Read(ctx, bus.StreamAgg, bus.ReadOptions{Filters: []string{filter}}, func(m bus.Msg) error {
		return eachLine(m.Data, func(line []byte) error {
			var r events.PeriodRecord
			if err := json.Unmarshal(line, &r); err != nil {
				return err
			}
			seen[r.RecordID()] = true
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("parked: read %s: %w", filter, err)
	}
	return len(seen), nil
}

func eachLine(data []byte, fn func([]byte) error) error {
	for line := range bytes.Lines(data) {
		if line = bytes.TrimSpace(line); len(line) > 0 {
			if err := fn(line); err != nil {
				return err
			}
		}
	}
	return nil
}
