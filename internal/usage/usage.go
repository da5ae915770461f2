package usage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/usagepipe/usagepipe/internal/aggregate"
	"github.com/usagepipe/usagepipe/internal/aggregator"
	"github.com/usagepipe/usagepipe/internal/bus"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/events"
)

// Bus models the reads of internal/bus.Conn the usage service makes.
type Bus interface {
	aggregator.Requester
	aggregator.CommitReader
	Read(ctx context.Context, stream string, o bus.ReadOptions, fn func(bus.Msg) error) error
	KV(ctx context.Context, bucket string) (*bus.KV, error)
}

// DefaultPeriods is how many closed periods per product an answer shows by default.
const DefaultPeriods = 3

// Query asks for the usage of one subscription, optionally of one product and item.
type Query struct {
	Subscription string `json:"subscription"`
	Product      string `json:"product,omitempty"`
	Item         string `json:"item,omitempty"`
	Periods      int    `json:"periods,omitempty"`  // closed periods per product (DefaultPeriods)
	Reported     bool   `json:"reported,omitempty"` // add what accepted files reported (reads USAGE_AGG)
}

// Answer is a subscription's usage.
type Answer struct {
	Subscription string    `json:"subscription"`
	Partition    int       `json:"partition"`
	Owner        string    `json:"owner"`          // the aggregator member that answered
	CompleteUpTo time.Time `json:"complete_up_to"` // stream time of the last message it applied
	CaughtUp     bool      `json:"caught_up"`      // false while it replays the backlog it started with
	Open         []Line    `json:"open"`
	Closed       []Line    `json:"closed"`
}

// Line is one subscription × item × tier of one period.
type Line struct {
	Product     string          `json:"product"`
	Contract    string          `json:"contract"`
	Item        string          `json:"item"`
	Tier        int             `json:"tier,omitempty"`
	PeriodStart time.Time       `json:"period_start"`
	PeriodEnd   time.Time       `json:"period_end"`
	ClosesAt    time.Time       `json:"closes_at"`
	Value       events.Decimal  `json:"value"` // now: the period's total so far (open) or after every late event (closed)
	Amount      *events.Decimal `json:"amount,omitempty"`
	Events      int64           `json:"events"`
	Revisions   int             `json:"revisions,omitempty"` // closed: adjustments emitted after the closed record
	Files       []File          `json:"files,omitempty"`     // closed: the period's files in the ledger
	Reported    *Reported       `json:"reported,omitempty"`  // closed, with Query.Reported
}

// File is one usage file of a period (all subscriptions of the period's contract share it).
type File struct {
	Revision      int    `json:"revision"` // 0: closed records; n: supplement n
	Part          int    `json:"part"`
	Parts         int    `json:"parts"`
	State         string `json:"state"`
	FileID        string `json:"file_id,omitempty"`
	ConnectStatus string `json:"connect_status,omitempty"` // as last seen by the submitter
}

// Reported is what the records of one key told Connect.
type Reported struct {
	Value   events.Decimal `json:"value"`   // sum of the reported quantities of the records in accepted or closed files
	Pending events.Decimal `json:"pending"` // of the records in files not accepted yet (or in none yet)
	Records []RecordRef    `json:"records"`
}

// RecordRef is one revision of a key.
type RecordRef struct {
	Revision int            `json:"revision"`
	RecordID string         `json:"record_id"`
	Reported events.Decimal `json:"reported"`
	Accepted bool           `json:"accepted"`
}

// Service answers usage queries.
type Service struct {
	bus        Bus
	ledger     *ledger.Store
	partitions int
}

// New returns a service for P partitions.
func New(ctx context.Context, b Bus, partitions int) (*Service, error) {
	l, err := ledger.Open(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("usage: %w", err)
	}
	return &Service{bus: b, ledger: l, partitions: partitions}, nil
}

// ErrBadQuery: the query names no subscription.
var ErrBadQuery = errors.New("usage: bad query")

// Usage answers q from the owner of the subscription's partition (aggregator.ErrNoOwner when none answers).
func (s *Service) Usage(ctx context.Context, q Query) (*Answer, error) {
	if q.Subscription == "" {
		return nil, fmt.Errorf("%w: name a subscription", ErrBadQuery)
	}
	if q.Periods <= 0 {
		q.Periods = DefaultPeriods
	}
	p := events.Partition(q.Subscription, s.partitions)
	owner, err := aggregator.QueryUsage(ctx, s.bus, p, q.Subscription)
	if err != nil {
		return nil, err
	}
	a := &Answer{Subscription: q.Subscription, Partition: p, Owner: owner.Member, CompleteUpTo: owner.Clock,
		CaughtUp: owner.CaughtUp, Open: []Line{}, Closed: []Line{}}
	for _, k := range owner.Keys {
		if (q.Product == "" || k.Product == q.Product) && (q.Item == "" || k.Item == q.Item) {
			if k.Closed {
				a.Closed = append(a.Closed, lineOf(k))
			} else {
				a.Open = append(a.Open, lineOf(k))
			}
		}
	}
	a.Closed = newestPeriods(a.Closed, q.Periods)
	if err := s.addFiles(ctx, a.Closed); err != nil {
		return nil, err
	}
	if q.Reported {
		if err := s.addReported(ctx, q.Subscription, p, a.Closed); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func lineOf(k aggregate.KeyUsage) Line {
	return Line{Product: k.Product, Contract: k.Contract, Item: k.Item, Tier: k.Tier, PeriodStart: k.PeriodStart,
		PeriodEnd: k.PeriodEnd, ClosesAt: k.ClosesAt, Value: k.Quantity, Amount: k.Amount, Events: k.Events,
		Revisions: k.Revision}
}

// newestPeriods keeps the lines of the newest n periods of each product, newest first.
func newestPeriods(lines []Line, n int) []Line {
	slices.SortStableFunc(lines, func(a, b Line) int {
		if c := cmp.Compare(a.Product, b.Product); c != 0 {
			return c
		}
		return b.PeriodStart.Compare(a.PeriodStart)
	})
	var out []Line
	seen := map[string][]time.Time{}
	for _, l := range lines {
		starts := seen[l.Product]
		if !slices.ContainsFunc(starts, l.PeriodStart.Equal) {
			if len(starts) == n {
				continue
			}
			seen[l.Product] = append(starts, l.PeriodStart)
		}
		out = append(out, l)
	}
	return out
}

// addFiles adds each closed line's period files from the ledger (one prefix read per period and contract).
func (s *Service) addFiles(ctx context.Context, lines []Line) error {
	byPeriod := map[string][]File{}
	for i := range lines {
		l := &lines[i]
		prefix := ledger.PeriodPrefix(l.Product, l.Contract, l.PeriodStart)
		files, ok := byPeriod[prefix]
		if !ok {
			entries, err := s.ledger.Entries(ctx, prefix)
			if err != nil {
				return fmt.Errorf("usage: ledger: %w", err)
			}
			for _, e := range entries {
				files = append(files, File{Revision: e.Revision, Part: e.Part, Parts: e.Parts, State: string(e.State),
					FileID: e.FileID, ConnectStatus: e.Status})
			}
			byPeriod[prefix] = files
		}
		l.Files = files
	}
	return nil
}
