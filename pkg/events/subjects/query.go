package subjects

import "strconv"

// Core NATS subjects of the operator queries (request/reply, never stored: no stream captures QueryRoot).
//
//	usagepipe.query.usage.<p>  current usage of a subscription, answered by partition p's owner
const QueryRoot = "usagepipe.query"

const usageQueryPrefix = QueryRoot + ".usage."

// UsageQuery is the subject partition p's owner answers current-usage queries on: usagepipe.query.usage.<p>.
func UsageQuery(p int) string { return usageQueryPrefix + strconv.Itoa(p) }

// ParseUsageQuery returns the partition of a usagepipe.query.usage.<p> subject.
func ParseUsageQuery(s string) (int, error) { return parsePartition(s, usageQueryPrefix) }
