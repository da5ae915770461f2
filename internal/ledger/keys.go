package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// The ledger's key layout. <product> and <contract> are events.SubjectToken of the ids (characters valid
// in KV keys), <periodKey> is events.Period.Key of the period start:
//
//	file.<product>.<contract>.<periodKey>.r<revision>.p<part>  an Entry (FileID.Key)
//	supp.<product>.<contract>.<periodKey>                      a period's SupplementIndex
//	parked.<product>.<contract>.<periodKey>.r<revision>        a Parked revision
//
// A usage file's Connect external_id follows the same identity: usagepipe:<product>:<contract>:
// <periodKey>:r<revision>:p<part> (FileID.ExternalID).

// Key prefixes of the three kinds of values: each lists every key of its kind.
const (
	FilesPrefix             = "file."
	SupplementIndexesPrefix = "supp."
	ParkedPrefix            = "parked."
)

// ExternalIDPrefix starts the external_id of every usage file usagepipe creates in Connect.
const ExternalIDPrefix = "usagepipe:"

// maxExternalID is the longest external_id written (Connect's PUT allows 200 characters).
const maxExternalID = 200

// FileID names one usage file: a (product, contract, period) report revision — 0 for the closed records,
// n ≥ 1 for the nth supplement of adjustments — and its part (1-based) when it is split.
type FileID struct {
	Product, Contract string
	PeriodStart       time.Time
	Revision, Part    int
}

// Key is the ledger key of the file's entry: file.<product>.<contract>.<periodKey>.r<revision>.p<part>.
func (f FileID) Key() string {
	return FilesPrefix + periodTokens(f.Product, f.Contract, f.PeriodStart) + ".r" + strconv.Itoa(f.Revision) +
		".p" + strconv.Itoa(f.Part)
}

// ExternalID is the Connect external_id: usagepipe:<product>:<contract>:<periodKey>:r<revision>:p<part>, or,
// when that is longer than 200 characters, usagepipe: and the hex sha256 of it.
func (f FileID) ExternalID() string {
	s := ExternalIDPrefix + f.Product + ":" + f.Contract + ":" + periodKey(f.PeriodStart) +
		":r" + strconv.Itoa(f.Revision) + ":p" + strconv.Itoa(f.Part)
	if len(s) <= maxExternalID {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return ExternalIDPrefix + hex.EncodeToString(sum[:])
}

// PeriodPrefix is the prefix of every file key of a period: file.<product>.<contract>.<periodKey>.
func PeriodPrefix(product, contract string, start time.Time) string {
	return FilesPrefix + periodTokens(product, contract, start) + "."
}

// RevisionPrefix is the prefix of every part's file key of id's revision:
// file.<product>.<contract>.<periodKey>.r<revision>.
func RevisionPrefix(id FileID) string {
	return PeriodPrefix(id.Product, id.Contract, id.PeriodStart) + "r" + strconv.Itoa(id.Revision) + "."
}

// SupplementIndexKey is the key of a period's supplement index: supp.<product>.<contract>.<periodKey>.
func SupplementIndexKey(product, contract string, start time.Time) string {
	return SupplementIndexesPrefix + periodTokens(product, contract, start)
}

// ParkedKey is the parked key of id's revision: parked.<product>.<contract>.<periodKey>.r<revision>.
func ParkedKey(id FileID) string {
	return ParkedPrefix + periodTokens(id.Product, id.Contract, id.PeriodStart) + ".r" + strconv.Itoa(id.Revision)
}

func periodTokens(product, contract string, start time.Time) string {
	return events.SubjectToken(product) + "." + events.SubjectToken(contract) + "." + periodKey(start)
}

func periodKey(start time.Time) string { return events.Period{Start: start}.Key() }

// KeyKind says which kind of value a ledger key holds.
type KeyKind string

// Kinds of ledger keys (their prefixes without the dot).
const (
	KindFile            KeyKind = "file"
	KindSupplementIndex KeyKind = "supp"
	KindParked          KeyKind = "parked"
)

// ParseKey splits a ledger key into its kind and parts. The FileID has Revision and Part as far as the kind
// has them (a supplement index none, a parked key no part); its Product and Contract are the key's tokens:
// the ids themselves unless they were not valid key tokens (events.SubjectToken encoded them).
func ParseKey(key string) (KeyKind, FileID, error) {
	kind, rest, _ := strings.Cut(key, ".")
	tok := strings.Split(rest, ".")
	want := map[KeyKind]int{KindFile: 5, KindSupplementIndex: 3, KindParked: 4}[KeyKind(kind)]
	if want == 0 || len(tok) != want || tok[0] == "" || tok[1] == "" {
		return "", FileID{}, fmt.Errorf("ledger: %q is not a ledger key (file.…, supp.… or parked.…)", key)
	}
	start, err := events.ParsePeriodKey(tok[2])
	if err != nil {
		return "", FileID{}, fmt.Errorf("ledger: key %q: %w", key, err)
	}
	id := FileID{Product: tok[0], Contract: tok[1], PeriodStart: start}
	if len(tok) > 3 {
		if id.Revision, err = number(tok[3], "r"); err != nil {
			return "", FileID{}, fmt.Errorf("ledger: key %q: revision: %w", key, err)
		}
	}
	if len(tok) > 4 {
		if id.Part, err = number(tok[4], "p"); err == nil && id.Part < 1 {
			err = errors.New("parts count from 1")
		}
		if err != nil {
			return "", FileID{}, fmt.Errorf("ledger: key %q: part: %w", key, err)
		}
	}
	return KeyKind(kind), id, nil
}

// ParseExternalID is the identity of an external_id in its readable form (FileID.ExternalID); false for
// another form (the sha256 one, or an id usagepipe does not write).
func ParseExternalID(x string) (FileID, bool) {
	rest, ok := strings.CutPrefix(x, ExternalIDPrefix)
	p := strings.Split(rest, ":")
	if !ok || len(p) != 5 {
		return FileID{}, false
	}
	start, err1 := events.ParsePeriodKey(p[2])
	rev, err2 := number(p[3], "r")
	part, err3 := number(p[4], "p")
	id := FileID{Product: p[0], Contract: p[1], PeriodStart: start, Revision: rev, Part: part}
	if err1 != nil || err2 != nil || err3 != nil || id.ExternalID() != x {
		return FileID{}, false
	}
	return id, true
}

// number reads prefix and a decimal number ≥ 0 written without leading zeros.
func number(tok, prefix string) (int, error) {
	digits, ok := strings.CutPrefix(tok, prefix)
	n, err := strconv.Atoi(digits)
	if !ok || err != nil || n < 0 || strconv.Itoa(n) != digits {
		return 0, fmt.Errorf("%q is not %s<number>", tok, prefix)
	}
	return n, nil
}
