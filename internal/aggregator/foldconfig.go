package aggregator

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregate"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// foldConfig is everything besides the stream that the fold's output depends on: the catalog, P, the dedup
// horizon and MarkFrom. The output of a partition is a function of its stream and of the fold configurations
// committed with it: every progress record names the configuration its range was folded under by digest (the
// SHA-256 of the configuration's encoding, truncated), and the configuration itself is stored once under
// fold-<digest> in the snapshot bucket, so that any later owner, whatever its own flags and catalog, replays
// committed messages exactly as they were folded. A foldConfig is read-only once built.
type foldConfig struct {
	digest  string
	data    []byte // the encoding the digest is taken of
	catalog *events.Catalog
	doc     foldConfigDoc
}

// foldConfigDoc is the stored form of a foldConfig.
type foldConfigDoc struct {
	Version      int             `json:"version"`
	Partitions   int             `json:"partitions"`
	DedupHorizon string          `json:"dedup_horizon"`
	MarkFrom     time.Time       `json:"mark_from"`
	Catalog      json.RawMessage `json:"catalog"`
}

// foldConfigVersion is the version of foldConfigDoc.
const foldConfigVersion = 1

// foldConfigPrefix is the object name prefix of stored fold configurations: fold-<digest>.
const foldConfigPrefix = "fold-"

// digestHexLen is the length of a configuration digest: 128 bits in hex.
const digestHexLen = 32

// errFoldConfigDigest: a stored fold configuration does not hash to the digest it is stored under.
var errFoldConfigDigest = errors.New("fold configuration does not match its digest")

// newFoldConfig builds the configuration a worker folds new messages with. It is decoded back from its stored
// form, so that the fold uses exactly what any later owner reads.
func newFoldConfig(c *events.Catalog, partitions int, horizon time.Duration, markFrom time.Time) (*foldConfig, error) {
	cat, err := c.MarshalFile()
	if err != nil {
		return nil, fmt.Errorf("encode fold configuration: %w", err)
	}
	doc := foldConfigDoc{Version: foldConfigVersion, Partitions: partitions, DedupHorizon: horizon.String(),
		MarkFrom: markFrom.UTC(), Catalog: cat}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode fold configuration: %w", err)
	}
	sum := sha256.Sum256(data)
	return decodeFoldConfig(hex.EncodeToString(sum[:])[:digestHexLen], data)
}

// decodeFoldConfig reads a stored configuration and checks it against its digest.
func decodeFoldConfig(digest string, data []byte) (*foldConfig, error) {
	var doc foldConfigDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decode fold configuration %s: %w", digest, err)
	}
	if doc.Version != foldConfigVersion {
		return nil, fmt.Errorf("decode fold configuration %s: version %d, want %d", digest, doc.Version, foldConfigVersion)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:])[:digestHexLen] != digest {
		return nil, fmt.Errorf("decode fold configuration %s: %w", digest, errFoldConfigDigest)
	}
	c, err := events.ParseCatalog(doc.Catalog)
	if err != nil {
		return nil, fmt.Errorf("decode fold configuration %s: %w", digest, err)
	}
	if _, err := time.ParseDuration(doc.DedupHorizon); err != nil {
		return nil, fmt.Errorf("decode fold configuration %s: dedup horizon: %w", digest, err)
	}
	return &foldConfig{digest: digest, data: data, catalog: c, doc: doc}, nil
}

// forPartition is the aggregate configuration of partition p.
func (fc *foldConfig) forPartition(p int) aggregate.Config {
	horizon, _ := time.ParseDuration(fc.doc.DedupHorizon) // checked when built or decoded
	return aggregate.Config{Catalog: fc.catalog, Partition: p, Partitions: fc.doc.Partitions, DedupHorizon: horizon,
		MarkFrom: fc.doc.MarkFrom}
}

func foldConfigName(digest string) string { return foldConfigPrefix + digest }
