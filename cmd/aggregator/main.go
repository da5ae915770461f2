// Command aggregator is the usagepipe aggregator worker: it owns some of the event partitions, folds them into
// closed-period records and commits them exactly once to USAGE_AGG. Flags and USAGEPIPE_* variables are
// described by -h; the work is internal/aggregator's.
package main

import (
	"github.com/usagepipe/usagepipe/internal/aggregator"
	"github.com/usagepipe/usagepipe/internal/startup"
)

func main() { startup.Main(aggregator.Run) }
