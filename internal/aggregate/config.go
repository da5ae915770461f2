package aggregate

import (
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// DefaultDedupHorizon is how long (of arrival time) an applied event's (source, id) is remembered by default.
const DefaultDedupHorizon = 24 * time.Hour

// Stage is the DeadLetter.Stage of this package's dead letters.
const Stage = "aggregator"

// Config configures a State. The same Config must be given to New and to Restore.
type Config struct {
	// Catalog gives products, items, periods and lateness. Required.
	Catalog *events.Catalog
	// Partition is the partition this state folds, of Partitions.
	Partition, Partitions int
	// DedupHorizon defaults to DefaultDedupHorizon.
	DedupHorizon time.Duration
	// MarkFrom is the creation time of the event stream, the same for every partition: marks start with the
	// earliest period that closes after it. Zero starts them with the period containing the first arrival,
	// which is only safe with one partition.
	MarkFrom time.Time
}

func (c Config) horizon() time.Duration {
	if c.DedupHorizon <= 0 {
		return DefaultDedupHorizon
	}
	return c.DedupHorizon
}

func (c Config) partitions() int { return max(c.Partitions, 1) }
