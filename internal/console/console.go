package console

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/usagepipe/usagepipe/internal/deadletter"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/internal/lineage"
	"github.com/usagepipe/usagepipe/internal/opsapi"
	"github.com/usagepipe/usagepipe/internal/parked"
	"github.com/usagepipe/usagepipe/internal/status"
	"github.com/usagepipe/usagepipe/internal/usage"
	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// Lineage models internal/lineage.Service: explain an event, a record or a file, and find a file's entry.
type Lineage interface {
	ExplainEvent(ctx context.Context, q lineage.EventQuery) (*lineage.EventAnswer, error)
	ExplainRecord(ctx context.Context, q lineage.RecordQuery) (*lineage.RecordAnswer, error)
	ExplainFile(ctx context.Context, q lineage.FileQuery) (*lineage.FileAnswer, error)
	FileEntry(ctx context.Context, fileID string) (*ledger.Entry, error)
}

// Usage models internal/usage.Service: a subscription's current usage.
type Usage interface {
	Usage(ctx context.Context, q usage.Query) (*usage.Answer, error)
}

// Status models internal/status.Reader: the whole system's state, and a page of periods with their files.
type Status interface {
	Status(ctx context.Context) (*status.Report, error)
	Periods(ctx context.Context, q status.PeriodQuery) (*status.PeriodPage, error)
}

// Ledger models the reads of internal/ledger.Store the console makes: one entry, the entries of a prefix, a
// period's action log.
type Ledger interface {
	Get(ctx context.Context, key string) (*ledger.Entry, uint64, error)
	Entries(ctx context.Context, prefix string) ([]*ledger.Entry, error)
	Actions(ctx context.Context, product, contract string, start time.Time) ([]ledger.Action, error)
}

// DeadLetters models internal/deadletter.Service: list, show and replay dead letters.
type DeadLetters interface {
	List(ctx context.Context, f deadletter.Filter) (*deadletter.Listing, error)
	Show(ctx context.Context, id string) (*deadletter.Letter, error)
	Replay(ctx context.Context, f deadletter.Filter, o deadletter.ReplayOptions) (*deadletter.Report, error)
}

// Parked models internal/parked.Service: parked files and the operators' actions on them.
type Parked interface {
	List(ctx context.Context, f parked.ListFilter) (parked.Views, error)
	Show(ctx context.Context, key string) (*parked.View, error)
	Retry(ctx context.Context, key string, actor ledger.Actor, note string) (*parked.Result, error)
	Resubmit(ctx context.Context, key string, actor ledger.Actor, note string) (*parked.Result, error)
	Abandon(ctx context.Context, key string, actor ledger.Actor, note string) (*parked.Result, error)
}

// Connect models the reads of the Connect Usage API the console makes (pkg/usageapi.Client).
type Connect interface {
	GetFile(ctx context.Context, id string) (*usageapi.FileDetail, error)
	Records(terms ...usageapi.Term) usageapi.List[usageapi.Record]
}

// Services are the service layer the console shows and acts through; all are required but Connect, without
// which files are shown as the ledger last saw them (and parked files cannot be resubmitted).
type Services struct {
	Lineage     Lineage
	Usage       Usage
	Status      Status
	Ledger      Ledger
	DeadLetters DeadLetters
	Parked      Parked
	Connect     Connect
	Catalog     *events.Catalog // the products, for their time zones
	Partitions  int             // P
}

// DefaultRefresh is how often the pages refresh what changes.
const DefaultRefresh = 5 * time.Second

// Options configures a Console.
type Options struct {
	Keys opsapi.Keys
	// AllowLoopback serves requests without a key as opsapi.LoopbackOperator, but only when Listener is a
	// loopback address and the request comes from one (usagepipe dev, or --operator-allow-loopback).
	AllowLoopback bool
	Listener      net.Addr
	// SecureCookies marks the cookies Secure even on plain HTTP (the console behind a TLS-terminating proxy).
	SecureCookies bool
	Refresh       time.Duration // DefaultRefresh
	Logger        *slog.Logger
	Now           func() time.Time
}

// Console is the web console's http.Handler. Build it with New.
type Console struct {
	svc      Services
	opts     Options
	open     bool // requests without a key are served (loopback-only listener, AllowLoopback)
	mux      *http.ServeMux
	pages    *pages
	sessions *sessions
	csrf     csrfKey
	report   *reportCache
	log      *slog.Logger
}

// New returns the console over svc.
func New(svc Services, o Options) (*Console, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Refresh <= 0 {
		o.Refresh = DefaultRefresh
	}
	pg, err := parsePages(funcsFor(svc.Catalog))
	if err != nil {
		return nil, err
	}
	c := &Console{svc: svc, opts: o, open: o.AllowLoopback && opsapi.IsLoopback(o.Listener), mux: http.NewServeMux(),
		pages: pg, sessions: newSessions(o.Now), csrf: newCSRFKey(), log: o.Logger}
	c.report = newReportCache(svc.Status, o.Refresh/2, o.Now)
	c.routes()
	return c, nil
}

// ServeHTTP serves the console.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	c.mux.ServeHTTP(w, r)
}

// routes registers every page and action.
func (c *Console) routes() {
	c.mux.Handle("GET /static/", staticHandler())
	c.mux.HandleFunc("GET /login", c.loginForm)
	c.mux.HandleFunc("POST /login", c.login)
	for path, fn := range c.actions() {
		c.mux.HandleFunc("POST "+path, c.action(fn))
	}
	for path, fn := range map[string]pageFunc{"/{$}": c.overview, "/periods": c.periods, "/file": c.file,
		"/subscription": c.subscription, "/explain": c.explain, "/deadletters": c.deadLetters,
		"/deadletters/letter": c.deadLetter, "/deadletters/replay": c.replayPreview, "/parked": c.parkedList,
		"/parked/entry": c.parkedEntry} {
		c.mux.HandleFunc("GET "+path, c.page(fn))
	}
	c.mux.HandleFunc("/", c.page(c.notFound))
}

// actions are the console's POSTs, by path: each is served by action (an operator, the CSRF token).
func (c *Console) actions() map[string]actionFunc {
	return map[string]actionFunc{
		"/logout":             c.logout,
		"/deadletters/replay": c.replay,
		"/parked/retry":       c.parkedDo(parked.ActionRetry),
		"/parked/resubmit":    c.parkedDo(parked.ActionResubmit),
		"/parked/abandon":     c.parkedDo(parked.ActionAbandon),
	}
}
