package aggregator

import (
	"bytes"
	"context"
	"fmt"

	"github.com/usagepipe/usagepipe/internal/aggregate"
)

// applyPlan makes the fold configuration the one the plan gives source message seq, switching as many times
// as the plan says before it.
func (r *runner) applyPlan(ctx context.Context, seq uint64) error {
	for len(r.plan) > 0 && seq > r.plan[0].after {
		step := r.plan[0]
		r.plan = r.plan[1:]
		if step.digest == r.foldDigest {
			continue
		}
		if err := r.switchConfig(ctx, step); err != nil {
			return err
		}
	}
	return nil
}

// switchConfig restores the state's snapshot under the configuration of step. It happens between commits only
// (nothing pending), so every commit is folded under the one configuration its progress record names.
func (r *runner) switchConfig(ctx context.Context, step foldStep) error {
	if r.pend.messages > 0 {
		return fmt.Errorf("switch fold configuration after %d: %d source messages pending", step.after, r.pend.messages)
	}
	fc, err := r.configs.get(ctx, step.digest)
	if err != nil {
		return fmt.Errorf("switch fold configuration after %d: %w", step.after, err)
	}
	var buf bytes.Buffer
	if err := r.state.Snapshot(&buf); err != nil {
		return fmt.Errorf("switch fold configuration after %d: %w", step.after, err)
	}
	st, err := aggregate.Restore(fc.forPartition(r.p), &buf)
	if err != nil {
		return fmt.Errorf("switch fold configuration after %d: %w", step.after, err)
	}
	r.log.InfoContext(ctx, "fold configuration switched", "from_config", r.foldDigest, "to_config", step.digest,
		"base", step.after, "current", step.digest == r.configs.current.digest)
	r.state, r.foldDigest = st, step.digest
	return nil
}
