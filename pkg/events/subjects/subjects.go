// Package subjects is the subject layout of usagepipe's three streams: the one place that spells the
// subjects written to and read from USAGE_EVENTS, USAGE_AGG and USAGE_DLQ (docs/DESIGN.md, "Streams,
// subjects and buckets"). Writers build subjects here, readers take their filters from here, and whoever
// reads a subject back parses it here. The payloads on these subjects are the wire types of pkg/events.
//
//	USAGE_EVENTS  usage.events.<p>                                    event packets and ticks of partition p
//	USAGE_AGG     usage.agg.progress.<p>                              a partition's commit progress (its fence)
//	              usage.agg.rec.<product>.<contract>.<periodKey>.<p>  closed records
//	              usage.agg.adj.<product>.<contract>.<periodKey>.<p>  adjustments
//	              usage.agg.mark.<product>.<contract>.<periodKey>.<p> partition marks
//	              usage.agg.dlq.<p>                                   the aggregator's dead letters
//	USAGE_DLQ     usage.dlq.<stage>.<reason>                          dead letters of a stage
//
// and the core NATS subjects of operator queries (query.go), which no stream captures:
//
//	usagepipe.query.usage.<p>                                         current usage, from partition p's owner
//
// <p> is the partition (events.Partition); <product> and <contract> are events.SubjectToken of the ids;
// <periodKey> is events.Period.Key of the period start (20261125T000000Z).
//
// # Concurrency
//
// Constants and pure functions: safe for concurrent use.
package subjects

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// Roots of the three streams: every subject of a stream is its root, a dot and more tokens.
const (
	EventsRoot = "usage.events"
	AggRoot    = "usage.agg"
	DLQRoot    = "usage.dlq"
)

// Filters of whole streams: the subjects each stream captures.
const (
	AllEvents = EventsRoot + ".>"
	AllAgg    = AggRoot + ".>"
	AllDLQ    = DLQRoot + ".>"
)

// EventsTemplate is the messaging destination template of partition subjects (span names and the
// messaging.destination.template attribute of OpenTelemetry).
const EventsTemplate = EventsRoot + ".{partition}"

// Prefixes of the subjects that end in a partition.
const (
	eventsPrefix         = EventsRoot + "."
	progressPrefix       = AggRoot + ".progress."
	aggDeadLettersPrefix = AggRoot + ".dlq."
)

// Filters of every partition's progress and dead letters in USAGE_AGG.
const (
	AllProgress       = progressPrefix + ">"
	AllAggDeadLetters = aggDeadLettersPrefix + ">"
)

// Events is the subject of partition p's event packets and ticks: usage.events.<p>.
func Events(p int) string { return eventsPrefix + strconv.Itoa(p) }

// Progress is the subject of partition p's progress records: usage.agg.progress.<p>.
func Progress(p int) string { return progressPrefix + strconv.Itoa(p) }

// AggDeadLetters is the subject of the aggregator's dead letters of partition p: usage.agg.dlq.<p>.
func AggDeadLetters(p int) string { return aggDeadLettersPrefix + strconv.Itoa(p) }

// ParseEvents returns the partition of a usage.events.<p> subject.
func ParseEvents(s string) (int, error) { return parsePartition(s, eventsPrefix) }

// ParseProgress returns the partition of a usage.agg.progress.<p> subject.
func ParseProgress(s string) (int, error) { return parsePartition(s, progressPrefix) }

// ParseAggDeadLetters returns the partition of a usage.agg.dlq.<p> subject.
func ParseAggDeadLetters(s string) (int, error) { return parsePartition(s, aggDeadLettersPrefix) }

// parsePartition reads the partition after prefix: a decimal number ≥ 0 and nothing else.
func parsePartition(s, prefix string) (int, error) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return 0, fmt.Errorf("subjects: %q is not a %s<partition> subject", s, prefix)
	}
	return partitionOf(s, rest)
}

func partitionOf(subject, token string) (int, error) {
	p, err := strconv.Atoi(token)
	if err != nil || p < 0 || strconv.Itoa(p) != token {
		return 0, fmt.Errorf("subjects: %q: bad partition %q", subject, token)
	}
	return p, nil
}

// DeadLetters is the subject of stage's dead letters for reason in USAGE_DLQ: usage.dlq.<stage>.<reason>.
func DeadLetters(stage string, reason events.Reason) string {
	return DLQRoot + "." + stage + "." + string(reason)
}

// StageDeadLetters is the filter of every dead letter of stage in USAGE_DLQ: usage.dlq.<stage>.>
func StageDeadLetters(stage string) string { return DLQRoot + "." + stage + ".>" }

// ParseDeadLetters returns the stage and reason of a usage.dlq.<stage>.<reason> subject.
func ParseDeadLetters(s string) (stage string, reason events.Reason, err error) {
	rest, ok := strings.CutPrefix(s, DLQRoot+".")
	stage, r, found := strings.Cut(rest, ".")
	if !ok || !found || stage == "" || r == "" || strings.Contains(r, ".") {
		return "", "", fmt.Errorf("subjects: %q is not a %s.<stage>.<reason> subject", s, DLQRoot)
	}
	return stage, events.Reason(r), nil
}
