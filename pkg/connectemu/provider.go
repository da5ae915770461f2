package connectemu

import (
	"hash/fnv"

	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// Notes the emulated provider writes when it decides automatically.
const (
	noteAutoApproved   = "Auto Approved"
	noteAutoRejected   = "Auto Rejected"
	noteEmulatorBilled = "billed by the emulator"
)

// decideLocked lets a just-submitted file be decided automatically: first by the product's active usage
// rules (accept, reject or manual), else by the provider policy in Auto mode. Decisions run in the
// background and are dropped if the file was decided or resubmitted meanwhile.
func (e *Emulator) decideLocked(f *fileState) {
	f.Submissions++
	submission := f.Submissions
	action, byRule := e.ruleDecisionLocked(f)
	p := e.opts.Provider
	switch {
	case byRule && action == usageapi.RuleActionManual:
		return
	case byRule:
		e.scheduleLocked(0, func() { e.decide(f.ID, submission, action == usageapi.RuleActionReject, "") })
	case p.Auto:
		reject := shareHit(f.ID, p.RejectShare)
		e.scheduleLocked(p.AcceptAfter, func() { e.decide(f.ID, submission, reject, p.RejectNote) })
	}
}

// decide accepts or rejects a file still pending from the given submission.
func (e *Emulator) decide(id string, submission int, reject bool, rejectNote string) {
	e.mu.Lock()
	f := e.st.fileByID[id]
	if f == nil || f.Status != usageapi.FileStatusPending || f.Submissions != submission {
		e.mu.Unlock()
		return
	}
	var err error
	if reject {
		if rejectNote == "" {
			rejectNote = noteAutoRejected
		}
		_, err = e.rejectLocked(id, rejectNote, nil)
	} else {
		_, err = e.acceptLocked(id, noteAutoApproved, nil)
	}
	e.mu.Unlock()
	e.logBackground("provider decision", id, err)
	e.logBackground("persist", id, e.persist())
}

// ruleDecisionLocked returns the action of the first active rule of f's product that applies to the file:
// a rule without an item applies to every file, one with an item to files reporting that item.
func (e *Emulator) ruleDecisionLocked(f *fileState) (usageapi.RuleAction, bool) {
	items := map[string]bool{}
	for _, r := range e.st.recordsOf(f.ID) {
		items[r.Item.ID] = true
	}
	for _, rule := range e.st.rules {
		if rule.ProductID != f.Product.ID || rule.Status != usageapi.RuleStatusActive {
			continue
		}
		if rule.Item.ID == "" || items[rule.Item.ID] {
			return rule.Action, true
		}
	}
	return "", false
}

// shareHit reports whether id falls in the given share of ids (a stable hash, so the same file always gets
// the same answer).
func shareHit(id string, share float64) bool {
	if share <= 0 {
		return false
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return float64(h.Sum32()%10000) < share*10000
}

// logBackground logs the failure of a background step.
func (e *Emulator) logBackground(step, id string, err error) {
	if err != nil {
		e.logger.Error("emulator background step failed", "step", step, "id", id, "err", err)
	}
}
