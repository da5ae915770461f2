package submitter

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// Ledger key prefixes.
const (
	fileKeyPrefix  = "file."
	suppKeyPrefix  = "supp."
	externalPrefix = "usagepipe:"
	// maxExternalID is the longest external_id written (Connect's PUT allows 200 characters).
	maxExternalID = 200
)

// FileID names one usage file: a (product, contract, period) report revision — 0 for the closed records,
// n ≥ 1 for the nth supplement of adjustments — and its part (1-based) when it is split.
type FileID struct {
	Product, Contract string
	PeriodStart       time.Time
	Revision, Part    int
}

// Key is the ledger key: file.<product>.<contract>.<periodKey>.r<revision>.p<part>, with product and
// contract as events.SubjectToken (characters valid in KV keys).
func (f FileID) Key() string {
	return fileKeyPrefix + periodKeyPart(f.Product, f.Contract, f.PeriodStart) +
		".r" + strconv.Itoa(f.Revision) + ".p" + strconv.Itoa(f.Part)
}

// ExternalID is the Connect external_id: usagepipe:<product>:<contract>:<periodKey>:r<revision>:p<part>, or,
// when that is longer than 200 characters, usagepipe: and the hex sha256 of it.
func (f FileID) ExternalID() string {
	s := externalPrefix + f.Product + ":" + f.Contract + ":" + periodKey(f.PeriodStart) +
		":r" + strconv.Itoa(f.Revision) + ":p" + strconv.Itoa(f.Part)
	if len(s) <= maxExternalID {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return externalPrefix + hex.EncodeToString(sum[:])
}

// suppIndexKey is the ledger key of a period's supplement index: supp.<product>.<contract>.<periodKey>.
func suppIndexKey(product, contract string, start time.Time) string {
	return suppKeyPrefix + periodKeyPart(product, contract, start)
}

func periodKeyPart(product, contract string, start time.Time) string {
	return events.SubjectToken(product) + "." + events.SubjectToken(contract) + "." + periodKey(start)
}

func periodKey(start time.Time) string { return events.Period{Start: start}.Key() }
