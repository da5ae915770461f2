package subjects

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// Output is one of the aggregator's per-period outputs in USAGE_AGG; its value is the prefix of its
// subjects.
type Output string

// The per-period outputs.
const (
	Records     Output = AggRoot + ".rec"  // closed records (events.PeriodRecord, kind closed)
	Adjustments Output = AggRoot + ".adj"  // adjustments (events.PeriodRecord, kind adjustment)
	Marks       Output = AggRoot + ".mark" // partition marks (events.PartitionMark)
)

// outputs lists the per-period outputs, for parsing.
var outputs = []Output{Records, Adjustments, Marks}

// Subject is the subject partition p writes o of a period on: <o>.<product>.<contract>.<periodKey>.<p>.
func (o Output) Subject(product, contract string, start time.Time, p int) string {
	return string(o) + "." + events.SubjectToken(product) + "." + events.SubjectToken(contract) + "." +
		events.Period{Start: start}.Key() + "." + strconv.Itoa(p)
}

// Period is the filter of o of a period in every partition: <o>.<product>.<contract>.<periodKey>.*
func (o Output) Period(product, contract string, start time.Time) string {
	return o.prefix(events.SubjectToken(product), events.SubjectToken(contract), start) + "*"
}

// InPartition is the filter of o of every period of partition p: <o>.*.*.*.<p>
func (o Output) InPartition(p int) string { return string(o) + ".*.*.*." + strconv.Itoa(p) }

// All is the filter of o of every period and partition: <o>.>
func (o Output) All() string { return string(o) + ".>" }

// prefix is <o>.<product>.<contract>.<periodKey>. with the tokens as given.
func (o Output) prefix(productToken, contractToken string, start time.Time) string {
	return string(o) + "." + productToken + "." + contractToken + "." + events.Period{Start: start}.Key() + "."
}

// PeriodSubject is a per-period subject of USAGE_AGG, parsed.
type PeriodSubject struct {
	Output            Output
	Product, Contract string // subject tokens: the ids themselves, or their events.SubjectToken encoding
	PeriodStart       time.Time
	Partition         int
}

// String is the subject: <output>.<product>.<contract>.<periodKey>.<partition>, the tokens as they are.
func (s PeriodSubject) String() string {
	return s.Output.prefix(s.Product, s.Contract, s.PeriodStart) + strconv.Itoa(s.Partition)
}

// ParsePeriod parses a per-period subject of USAGE_AGG (records, adjustments or marks).
func ParsePeriod(s string) (PeriodSubject, error) {
	for _, o := range outputs {
		if rest, ok := strings.CutPrefix(s, string(o)+"."); ok {
			return parsePeriodTokens(s, o, strings.Split(rest, "."))
		}
	}
	return PeriodSubject{}, fmt.Errorf("subjects: %q is not a per-period subject of %s", s, AggRoot)
}

// parsePeriodTokens reads <product>.<contract>.<periodKey>.<p>.
func parsePeriodTokens(s string, o Output, tok []string) (PeriodSubject, error) {
	if len(tok) != 4 || tok[0] == "" || tok[1] == "" {
		return PeriodSubject{}, fmt.Errorf("subjects: %q: want %s.<product>.<contract>.<periodKey>.<partition>", s, o)
	}
	start, err := events.ParsePeriodKey(tok[2])
	if err != nil {
		return PeriodSubject{}, fmt.Errorf("subjects: %q: %w", s, err)
	}
	p, err := partitionOf(s, tok[3])
	if err != nil {
		return PeriodSubject{}, err
	}
	return PeriodSubject{Output: o, Product: tok[0], Contract: tok[1], PeriodStart: start, Partition: p}, nil
}
