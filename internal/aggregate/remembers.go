package aggregate

import "time"

// Remembers reports whether an event id first applied at stream time first is still remembered at stream time
// at, with the dedup horizon h in force throughout: the rule a later copy is judged a duplicate by (see idSet:
// remembered while the generation of the clock is at most genSpan generations after the one it was tagged
// with, so for at least h and less than h·(genSpan+1)/genSpan). Operator reads use it to say which copy of an
// event was counted.
func Remembers(h time.Duration, first, at time.Time) bool {
	if h <= 0 {
		h = DefaultDedupHorizon
	}
	w := max(int64(h)/genSpan, 1)
	return floorDiv(at.UnixNano(), w)-floorDiv(first.UnixNano(), w) <= genSpan
}
