package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/internal/opsapi"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages are the page templates, each parsed with the layout and the shared partials (templates/_*.html).
type pages struct {
	byName map[string]*template.Template
}

func parsePages(fm template.FuncMap) (*pages, error) {
	base, err := template.New("").Funcs(fm).ParseFS(templateFS, "templates/_*.html")
	if err != nil {
		return nil, fmt.Errorf("console: templates: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("console: templates: %w", err)
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// staticHandler serves the embedded style sheet and script.
func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	})
}

// view is what every template gets: who is looking, the CSRF token of their forms, the page's data.
type view struct {
	Operator string
	Open     bool   // served without a key (loopback, usagepipe dev)
	CSRF     string // the token every form carries
	Now      time.Time
	Refresh  int // seconds between refreshes of the live parts; 0: the page has none
	Path     string
	Query    url.Values
	Title    string
	Nav      string // the navigation entry the page is under
	Data     any
}

// newView starts the view of a request by op, setting the browser's CSRF nonce when it has none.
func (c *Console) newView(w http.ResponseWriter, r *http.Request, op operator) *view {
	return &view{Operator: op.Name, Open: op.how == "loopback", CSRF: c.csrf.token(c.nonce(w, r), op.principal()),
		Now: c.opts.Now().UTC(), Path: r.URL.Path, Query: r.URL.Query()}
}

// live makes the page's live parts refresh.
func (c *Console) live(v *view) { v.Refresh = max(int(c.opts.Refresh/time.Second), 1) }

// readTimeout bounds the reads of one page; actionTimeout one action (a replay of many letters reads and
// writes much).
const (
	readTimeout   = 30 * time.Second
	actionTimeout = 10 * time.Minute
)

// maxForm bounds the body of a POST.
const maxForm = 64 << 10

// pageFunc fills a page's view (title, data) and returns its template's name.
type pageFunc func(ctx context.Context, r *http.Request, v *view) (string, error)

// page serves a page to an operator (others are sent to the login form): the whole page, or only the live
// fragment the X-Console-Fragment header names.
func (c *Console) page(fn pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		op, err := c.identify(r)
		if err != nil {
			c.toLogin(w, r, err)
			return
		}
		v := c.newView(w, r, op)
		ctx, cancel := context.WithTimeout(r.Context(), readTimeout)
		defer cancel()
		name, err := fn(ctx, r, v)
		if err != nil {
			c.renderError(w, r, v, err)
			return
		}
		if frag := r.Header.Get("X-Console-Fragment"); frag != "" {
			c.renderFragment(w, r, name, frag, v)
			return
		}
		c.render(w, r, http.StatusOK, name, v)
	}
}

// toLogin sends a browser to the login form; a fragment request or a script gets 401.
func (c *Console) toLogin(w http.ResponseWriter, r *http.Request, err error) {
	if r.Header.Get("X-Console-Fragment") != "" || r.Header.Get("Authorization") != "" {
		c.refuse(w, r, http.StatusUnauthorized, err.Error())
		return
	}
	http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
}

// actionFunc carries out an action for op (who is authenticated, and whose CSRF token is checked).
type actionFunc func(w http.ResponseWriter, r *http.Request, op operator)

// action serves a POST: refused without an operator (401) or without the CSRF token (403), before anything
// else is read or done.
func (c *Console) action(fn actionFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		op, err := c.identify(r)
		if err != nil {
			c.refuse(w, r, http.StatusUnauthorized, err.Error())
			return
		}
		if err := c.checkCSRF(r, op); err != nil {
			c.log.WarnContext(r.Context(), "console: action refused", "path", r.URL.Path, "operator", op.Name, "err", err)
			c.refuse(w, r, http.StatusForbidden, err.Error())
			return
		}
		fn(w, r, op)
	}
}

// render writes template name with v and status.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	c.write(w, r, status, name, "layout", v)
}

// renderFragment writes the live fragment frag of page name (templates "live-…" of the page).
func (c *Console) renderFragment(w http.ResponseWriter, r *http.Request, name, frag string, v *view) {
	if !strings.HasPrefix(frag, "live-") {
		c.refuse(w, r, http.StatusBadRequest, "no such fragment")
		return
	}
	c.write(w, r, http.StatusOK, name, frag, v)
}

// write executes template tmpl of page name into a buffer, then answers it (a failure is a 500, logged).
func (c *Console) write(w http.ResponseWriter, r *http.Request, status int, name, tmpl string, v *view) {
	t := c.pages.byName[name]
	var buf bytes.Buffer
	if t == nil || t.Lookup(tmpl) == nil {
		c.log.ErrorContext(r.Context(), "console: no such template", "page", name, "template", tmpl)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, tmpl, v); err != nil {
		c.log.ErrorContext(r.Context(), "console: template failed", "page", name, "err", err)
		http.Error(w, "internal error; see the console's log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorData is the error page's data.
type errorData struct {
	Status  int
	Reason  string
	Message string
}

// renderError shows err with the status and reason the operator API gives it (opsapi.ReadError); an error
// the service layer does not name is logged and shown as an internal error, without its text.
func (c *Console) renderError(w http.ResponseWriter, r *http.Request, v *view, err error) {
	var e *opsapi.Error
	if !errors.As(opsapi.WriteError(err), &e) {
		c.log.ErrorContext(r.Context(), "console: page failed", "path", r.URL.Path, "err", err)
		e = opsapi.Errorf(http.StatusInternalServerError, opsapi.ReasonInternal, "internal error; see the console's log")
	}
	v.Title, v.Data, v.Refresh = "Error", errorData{Status: e.Status, Reason: e.Reason, Message: e.Message}, 0
	if r.Header.Get("X-Console-Fragment") != "" {
		http.Error(w, e.Message, e.Status)
		return
	}
	c.render(w, r, e.Status, "error", v)
}

// refuse answers a request that is not let in (401, 403, 400) with a short page; nothing was read.
func (c *Console) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	v := &view{Now: c.opts.Now().UTC(), Path: r.URL.Path, Title: http.StatusText(status),
		Data: errorData{Status: status, Reason: strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_")), Message: msg}}
	c.render(w, r, status, "error", v)
}

// notFound is the page of a path no page has.
func (c *Console) notFound(_ context.Context, r *http.Request, _ *view) (string, error) {
	return "", opsapi.Errorf(http.StatusNotFound, opsapi.ReasonNotServed, "no page at %s", r.URL.Path)
}
