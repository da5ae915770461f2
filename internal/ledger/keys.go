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
//	ops.<product>.<contract>.<periodKey>                       the operators' Actions on a period
//	replay.<dead letter id>                                    a Replay of a dead letter
//	replayed.ev.<sha256 of the event key>                      a ReplayIndex: the one replay of an event
//	replayed.rec.<origin record id>                            a ReplayIndex: the one replay of a record
//
// A usage file's Connect external_id follows the same identity: usagepipe:<product>:<contract>:
// <periodKey>:r<revision>:p<part> (FileID.ExternalID), and :a<n> after it for the nth file of an entry an
// operator reported again in a new file (FileID.ExternalIDAttempt).

// Key prefixes of the three kinds of values: each lists every key of its kind.
const (
	FilesPrefix             = "file."
	SupplementIndexesPrefix = "supp."
	ParkedPrefix            = "parked."
	ActionsPrefix           = "ops."
	ReplaysPrefix           = "replay."
	ReplayedPrefix          = "replayed."
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
func (f FileID) ExternalID() string { return f.ExternalIDAttempt(1) }

// ExternalIDAttempt is the external_id of the nth Connect file of the entry (an operator reported its
// content again in a new file, the earlier ones being dead): ExternalID for n ≤ 1, else ExternalID's readable
// form followed by :a<n> (hashed the same way when too long).
func (f FileID) ExternalIDAttempt(n int) string {
	s := ExternalIDPrefix + f.Product + ":" + f.Contract + ":" + periodKey(f.PeriodStart) +
		":r" + strconv.Itoa(f.Revision) + ":p" + strconv.Itoa(f.Part)
	if n > 1 {
		s += ":a" + strconv.Itoa(n)
	}
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

// ActionsKey is the key of the operators' actions on a period: ops.<product>.<contract>.<periodKey>.
func ActionsKey(product, contract string, start time.Time) string {
	return ActionsPrefix + periodTokens(product, contract, start)
}

// ReplayKey is the key of the replay of a dead letter: replay.<dead letter id> (ids are key tokens:
// dlq-<seq>, agg-<seq>-<line>).
func ReplayKey(deadLetter string) string { return ReplaysPrefix + deadLetter }

// ReplayedEventKey is the key of the one replay of the event (source, id): replayed.ev.<hex sha256 of
// source NUL id, 40 characters>.
func ReplayedEventKey(source, id string) string {
	sum := sha256.Sum256([]byte(source + "\x00" + id))
	return ReplayedPrefix + "ev." + hex.EncodeToString(sum[:20])
}

// ReplayedRecordKey is the key of the one replay of a record: replayed.rec.<its origin id>
// (events.PeriodRecord.OriginID, 40 hex characters).
func ReplayedRecordKey(originID string) string { return ReplayedPrefix + "rec." + originID }

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
	KindActions         KeyKind = "ops"
)

// ParseKey splits a ledger key into its kind and parts. The FileID has Revision and Part as far as the kind
// has them (a supplement index none, a parked key no part); its Product and Contract are the key's tokens:
// the ids themselves unless they were not valid key tokens (events.SubjectToken encoded them).
func ParseKey(key string) (KeyKind, FileID, error) {
	kind, rest, _ := strings.Cut(key, ".")
	tok := strings.Split(rest, ".")
	want := map[KeyKind]int{KindFile: 5, KindSupplementIndex: 3, KindParked: 4, KindActions: 3}[KeyKind(kind)]
	if want == 0 || len(tok) != want || tok[0] == "" || tok[1] == "" {
		return "", FileID{}, fmt.Errorf("ledger: %q is not a key of a period (file.…, supp.…, parked.… or ops.…)", key)
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

// ParseExternalID is the identity of an external_id in its readable form (FileID.ExternalIDAttempt, any
// attempt); false for another form (the sha256 one, or an id usagepipe does not write).
func ParseExternalID(x string) (FileID, bool) {
	rest, ok := strings.CutPrefix(x, ExternalIDPrefix)
	p := strings.Split(rest, ":")
	if !ok || len(p) != 5 && len(p) != 6 {
		return FileID{}, false
	}
	start, err1 := events.ParsePeriodKey(p[2])
	rev, err2 := number(p[3], "r")
	part, err3 := number(p[4], "p")
	attempt, err4 := 1, error(nil)
	if len(p) == 6 {
		attempt, err4 = number(p[5], "a")
	}
	id := FileID{Product: p[0], Contract: p[1], PeriodStart: start, Revision: rev, Part: part}
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || id.ExternalIDAttempt(attempt) != x {
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
