package console

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/usagepipe/usagepipe/internal/deadletter"
	"github.com/usagepipe/usagepipe/internal/ledger"
	"github.com/usagepipe/usagepipe/pkg/usageapi"
)

// RecordsPage is how many Connect records the file page shows at once.
const RecordsPage = 50

// fileData is a usage file: its ledger entry, the period's other files, and Connect's view of it.
type fileData struct {
	E          *ledger.Entry
	Period     []*ledger.Entry // every file of the period (this one included), in key order
	Connect    *usageapi.FileDetail
	ConnectErr string
	Records    []usageapi.Record // one page
	Total      int               // records of the file in Connect
	Page       int               // 1-based
	Pages      int
	Invalid    []usageapi.Record // records Connect found invalid or rejected (first page of them)
	Excluded   []excludedRecord
	Letters    []deadletter.Letter // the submitter's dead letters of this file: records Connect refused, and why
	LettersErr string
	Actions    []ledger.Action // operators' actions on the period
}

// excludedRecord is a record left out of the file's uploads (dead-lettered), and why when the ledger says.
type excludedRecord struct {
	ID, Why string
}

// file shows one usage file (GET /file?key=file.… or ?id=UF-…): the ledger entry and its history, the
// period's supplementary files, and, from Connect, its status and records (paged), the invalid ones with
// Connect's reasons, each linked to its lineage.
func (c *Console) file(ctx context.Context, r *http.Request, v *view) (string, error) {
	e, err := c.fileEntry(ctx, r)
	if err != nil {
		return "", err
	}
	d := &fileData{E: e, Page: 1}
	if p, err := strconv.Atoi(r.FormValue("page")); err == nil && p > 1 {
		d.Page = p
	}
	if d.Period, err = c.svc.Ledger.Entries(ctx, ledger.PeriodPrefix(e.Product, e.Contract, e.PeriodStart)); err != nil {
		return "", fmt.Errorf("console: ledger: %w", err)
	}
	d.Excluded = excluded(e)
	if d.Actions, err = c.svc.Ledger.Actions(ctx, e.Product, e.Contract, e.PeriodStart); err != nil {
		return "", fmt.Errorf("console: ledger: %w", err)
	}
	if len(e.Excluded) > 0 || e.Excluding != nil {
		d.Letters, d.LettersErr = c.fileLetters(ctx, e)
	}
	c.readConnectFile(ctx, d, r.Header.Get("X-Console-Fragment") == "")
	v.Title, v.Nav, v.Data = "File "+fileTitle(e), "Periods", d
	c.live(v)
	return "file", nil
}

// fileEntry finds the entry the request names: by ledger key, or by Connect file id.
func (c *Console) fileEntry(ctx context.Context, r *http.Request) (*ledger.Entry, error) {
	key, id := strings.TrimSpace(r.FormValue("key")), strings.TrimSpace(r.FormValue("id"))
	switch {
	case key != "":
		if kind, _, err := ledger.ParseKey(key); err != nil || kind != ledger.KindFile {
			return nil, badRequest("%q is not the ledger key of a file (file.…)", key)
		}
		e, _, err := c.svc.Ledger.Get(ctx, key)
		if err != nil {
			return nil, notFoundOr(err, "no ledger entry %s", key)
		}
		return e, nil
	case id != "":
		return c.svc.Lineage.FileEntry(ctx, id)
	}
	return nil, badRequest("name a file: ?key=file.… or ?id=UF-…")
}

// readConnectFile reads the Connect file and, for a whole page (not a live fragment), a page of its records
// and its invalid ones. What cannot be read is said on the page.
func (c *Console) readConnectFile(ctx context.Context, d *fileData, records bool) {
	switch {
	case d.E.FileID == "":
		d.ConnectErr = "no Connect file yet"
		return
	case c.svc.Connect == nil:
		d.ConnectErr = "Connect not configured: the ledger's last seen status is shown"
		return
	}
	f, err := c.svc.Connect.GetFile(ctx, d.E.FileID)
	if err != nil {
		d.ConnectErr = fmt.Sprintf("Connect file %s: %v", d.E.FileID, err)
		return
	}
	d.Connect = f
	if !records {
		return
	}
	if err := c.readRecords(ctx, d); err != nil {
		d.ConnectErr = fmt.Sprintf("Connect records of %s: %v", d.E.FileID, err)
	}
}

// readRecords reads one page of the file's Connect records, their count, and the first invalid ones.
func (c *Console) readRecords(ctx context.Context, d *fileData) error {
	file := usageapi.Eq("usagefile.id", d.E.FileID)
	total, err := c.svc.Connect.Records(file).Count(ctx)
	if err != nil {
		return err
	}
	d.Total, d.Pages = total, max((total+RecordsPage-1)/RecordsPage, 1)
	d.Page = min(d.Page, d.Pages)
	if d.Records, err = firstN(ctx, c.svc.Connect.Records(file, usageapi.Limit(RecordsPage),
		usageapi.Offset((d.Page-1)*RecordsPage)), RecordsPage); err != nil {
		return err
	}
	d.Invalid, err = firstN(ctx, c.svc.Connect.Records(file, usageapi.In("status", "invalid", "rejected"),
		usageapi.Limit(RecordsPage)), RecordsPage)
	return err
}

// firstN reads at most n items of a list (its first page when the list's limit is n).
func firstN[T any](ctx context.Context, l usageapi.List[T], n int) ([]T, error) {
	var out []T
	for it, err := range l.All(ctx) {
		if err != nil {
			return out, err
		}
		if out = append(out, it); len(out) >= n {
			break
		}
	}
	return out, nil
}

// fileLetters are the submitter's dead letters of e's records (read over its product and period).
func (c *Console) fileLetters(ctx context.Context, e *ledger.Entry) ([]deadletter.Letter, string) {
	l, err := c.svc.DeadLetters.List(ctx, deadletter.Filter{Stage: "submitter", Product: e.Product, Period: e.PeriodStart})
	if err != nil {
		return nil, fmt.Sprintf("dead letters: %v", err)
	}
	var out []deadletter.Letter
	for _, x := range l.Letters {
		if x.FileKey == e.Key {
			out = append(out, x)
		}
	}
	return out, ""
}

// excluded lists the records left out of e's uploads, with why when an exclusion in progress says.
func excluded(e *ledger.Entry) []excludedRecord {
	var out []excludedRecord
	for _, id := range e.Excluded {
		out = append(out, excludedRecord{ID: id})
	}
	if e.Excluding != nil {
		for id, why := range e.Excluding.Records {
			out = append(out, excludedRecord{ID: id, Why: string(e.Excluding.Reason) + ": " + why})
		}
	}
	slices.SortFunc(out, func(a, b excludedRecord) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// fileTitle names a file: product, period key, revision and part.
func fileTitle(e *ledger.Entry) string {
	s := fmt.Sprintf("%s %s r%d", e.Product, e.PeriodStart.UTC().Format("2006-01-02 15:04"), e.Revision)
	if e.Parts > 1 {
		s += fmt.Sprintf(" part %d/%d", e.Part, e.Parts)
	}
	return s
}
