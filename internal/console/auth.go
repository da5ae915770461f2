package console

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/usagepipe/usagepipe/internal/opsapi"
)

// Cookie names.
const (
	sessionCookie = "usagepipe_session"
	nonceCookie   = "usagepipe_csrf"
)

// SessionTTL is how long a login lasts; MaxSessions bounds the session table (the oldest goes first).
const (
	SessionTTL  = 12 * time.Hour
	MaxSessions = 1000
)

// operator is who sends a request, and how it was recognised.
type operator struct {
	Name    string
	how     string // "key" (Authorization header), "session" (cookie) or "loopback"
	session string // the session id, when how is "session"
}

// principal is what a CSRF token is bound to: the session, the key's operator, or the loopback.
func (o operator) principal() string {
	if o.how == "session" {
		return "session:" + o.session
	}
	return o.how + ":" + o.Name
}

// errNoKey is answered 401: the request is nobody's (no key, no session, not an open loopback).
type authError struct{ msg string }

func (e *authError) Error() string { return e.msg }

// identify finds the request's operator: the key it carries, its session, or the open loopback.
func (c *Console) identify(r *http.Request) (operator, error) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		token, ok := strings.CutPrefix(auth, "Bearer ")
		if name, known := c.opts.Keys.Operator(strings.TrimSpace(token)); ok && known {
			return operator{Name: name, how: "key"}, nil
		}
		return operator{}, &authError{"the operator key is not known"}
	}
	if ck, err := r.Cookie(sessionCookie); err == nil {
		if name, ok := c.sessions.get(ck.Value); ok {
			return operator{Name: name, how: "session", session: ck.Value}, nil
		}
	}
	if c.open && opsapi.RemoteLoopback(r) {
		return operator{Name: opsapi.LoopbackOperator, how: "loopback"}, nil
	}
	return operator{}, &authError{"an operator key is required: sign in with your key, or send Authorization: Bearer <key>"}
}

// sessions are the logged-in browsers, by the SHA-256 of their cookie.
type sessions struct {
	mu  sync.Mutex
	m   map[[sha256.Size]byte]session
	now func() time.Time
}

type session struct {
	name    string
	created time.Time
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{m: map[[sha256.Size]byte]session{}, now: now}
}

// start opens a session for name and returns its id (the cookie's value).
func (s *sessions) start(name string) string {
	id := randomToken()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prune()
	s.m[sha256.Sum256([]byte(id))] = session{name: name, created: s.now()}
	return id
}

// prune drops the expired sessions, and the oldest while the table is full.
func (s *sessions) prune() {
	now := s.now()
	var oldest [sha256.Size]byte
	var oldestAt time.Time
	for k, v := range s.m {
		if now.Sub(v.created) > SessionTTL {
			delete(s.m, k)
		} else if oldestAt.IsZero() || v.created.Before(oldestAt) {
			oldest, oldestAt = k, v.created
		}
	}
	if len(s.m) >= MaxSessions {
		delete(s.m, oldest)
	}
}

// get returns the operator of session id, if it is live.
func (s *sessions) get(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[sha256.Sum256([]byte(id))]
	if !ok || s.now().Sub(v.created) > SessionTTL {
		return "", false
	}
	return v.name, true
}

// end closes session id.
func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, sha256.Sum256([]byte(id)))
}

// randomToken is 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// setCookie sets an HttpOnly, SameSite=Strict cookie (Secure under TLS or with Options.SecureCookies);
// maxAge < 0 deletes it, 0 makes it last the browser session.
func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || c.opts.SecureCookies})
}

// loginForm shows the form to sign in with an operator key.
func (c *Console) loginForm(w http.ResponseWriter, r *http.Request) {
	v := c.newView(w, r, operator{how: "login"})
	if op, err := c.identify(r); err == nil {
		v.Operator = op.Name
	}
	v.Title, v.Data = "Sign in", loginData{Next: safeNext(r.FormValue("next"))}
	c.render(w, r, http.StatusOK, "login", v)
}

type loginData struct {
	Next  string
	Error string
}

// login checks the key sent by the form and opens a session.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	login := operator{how: "login"}
	if err := c.checkCSRF(r, login); err != nil {
		c.refuse(w, r, http.StatusForbidden, err.Error())
		return
	}
	next := safeNext(r.PostFormValue("next"))
	name, ok := c.opts.Keys.Operator(strings.TrimSpace(r.PostFormValue("key")))
	if !ok {
		c.log.WarnContext(r.Context(), "console: a sign-in with an unknown key", "remote", r.RemoteAddr)
		v := c.newView(w, r, login)
		v.Title, v.Data = "Sign in", loginData{Next: next, Error: "This key is not an operator key."}
		c.render(w, r, http.StatusUnauthorized, "login", v)
		return
	}
	c.setCookie(w, r, sessionCookie, c.sessions.start(name), 0)
	c.log.InfoContext(r.Context(), "console: operator signed in", "operator", name, "remote", r.RemoteAddr)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends the session.
func (c *Console) logout(w http.ResponseWriter, r *http.Request, op operator) {
	if op.how == "session" {
		c.sessions.end(op.session)
	}
	c.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext is a local path to go to after signing in ("/" unless next is one).
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.HasPrefix(next, "/\\") || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}
