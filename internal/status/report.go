package status

import (
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregator"
	"github.com/usagepipe/usagepipe/internal/svcstatus"
)

// Report is the system's state at At.
type Report struct {
	At          time.Time             `json:"at"`
	Partitions  int                   `json:"partitions"`
	Periods     []Period              `json:"periods"`
	Parked      []Parked              `json:"parked"`
	BaseParked  []BaseParked          `json:"base_parked"`
	DeadLetters []DeadLetterCount     `json:"dead_letters"`
	Owners      []PartitionState      `json:"partitions_state"`
	Aggregators []Aggregator          `json:"aggregators"`
	Consumers   []Consumer            `json:"consumers"`
	Ingest      []svcstatus.Heartbeat `json:"ingest"`
	Services    []Service             `json:"services"`
	Problems    []Problem             `json:"problems"`
	Warnings    []Problem             `json:"warnings"`
}

// Period is one product × contract × period.
type Period struct {
	Product     string         `json:"product"`
	Contract    string         `json:"contract"`
	PeriodStart time.Time      `json:"period_start"`
	PeriodEnd   time.Time      `json:"period_end"`
	ClosesAt    time.Time      `json:"closes_at"`
	State       string         `json:"state"` // open | closing | closed
	Marked      int            `json:"marked"`
	Records     int            `json:"records"`               // closed records the marks count (once every partition marked)
	Files       map[string]int `json:"files,omitempty"`       // ledger entries by state
	Connect     map[string]int `json:"connect,omitempty"`     // ledger entries by Connect status last seen
	Supplements int            `json:"supplements,omitempty"` // supplement revisions planned
	Reported    bool           `json:"reported"`              // closed and its closed-records file accepted (or nothing to report)
	Abandoned   bool           `json:"abandoned,omitempty"`   // closed-records file abandoned by an operator (in part): not reported, on purpose
}

// Period states.
const (
	PeriodOpen    = "open"    // before its end
	PeriodClosing = "closing" // ended, not marked by every partition yet
	PeriodClosed  = "closed"  // marked by every partition
)

// Parked is a usage file an operator must resolve.
type Parked struct {
	Key    string `json:"key"`
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
	FileID string `json:"file_id,omitempty"`
	Note   string `json:"note,omitempty"`
}

// BaseParked is a supplement in Connect while the closed-records file it corrects is parked: its deltas may be
// billed without their base until the base is resubmitted (or abandoned on purpose).
type BaseParked struct {
	Key       string `json:"key"`
	State     string `json:"state"`
	FileID    string `json:"file_id,omitempty"`
	Base      string `json:"base"`
	BaseState string `json:"base_state"`
}

// DeadLetterCount counts the stored dead letters of one stream, stage and reason.
type DeadLetterCount struct {
	Stream     string `json:"stream"`
	Stage      string `json:"stage"`
	Reason     string `json:"reason"`
	Total      uint64 `json:"total"`       // stored
	Recent     uint64 `json:"recent"`      // stored within the dead-letter window
	Open       uint64 `json:"open"`        // not replayed (never, refused, interrupted): not counted or not billed
	OpenRecent uint64 `json:"open_recent"` // open and within the window: a problem
}

// PartitionState is one partition: its owner (lease) and its committed backlog.
type PartitionState struct {
	aggregator.Owner
	End        uint64  `json:"end"`       // newest message
	Committed  uint64  `json:"committed"` // committed base
	Backlog    uint64  `json:"backlog"`   // messages after the committed base
	LagSeconds float64 `json:"lag_seconds"`
}

// Aggregator is one aggregator worker, from its heartbeat.
type Aggregator struct {
	Member     string                   `json:"member"`
	Partitions []svcstatus.PartitionLag `json:"partitions"`
	MaxLag     float64                  `json:"max_lag_seconds"`
}

// Consumer is a durable consumer's backlog.
type Consumer struct {
	Stream     string `json:"stream"`
	Name       string `json:"name"`
	Pending    uint64 `json:"pending"`
	AckPending int    `json:"ack_pending"`
}

// Service is a live service process.
type Service struct {
	Kind    string    `json:"kind"`
	Member  string    `json:"member"`
	Version string    `json:"version"`
	Started time.Time `json:"started"`
	Seen    time.Time `json:"seen"`
	OpsAddr string    `json:"ops_addr,omitempty"`
}

// Problem is something an operator must look at.
type Problem struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Problem codes (doc.go).
const (
	ProblemNoOwner     = "no_owner"
	ProblemStuck       = "aggregator_stuck"
	ProblemParked      = "parked"
	ProblemOverdue     = "overdue"
	ProblemDeadLetters = "dead_letters"
	ProblemServiceDown = "service_down"
	ProblemBaseParked  = "base_parked"
	WarnNoIngest       = "no_ingest"
	WarnConsumer       = "consumer_backlog"
	WarnOldDeadLetters = "dead_letters_old"
)
