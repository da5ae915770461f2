package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
)

// csrfKey is the per-process secret CSRF tokens are made with.
type csrfKey [32]byte

func newCSRFKey() csrfKey {
	var k csrfKey
	_, _ = rand.Read(k[:]) // never fails (crypto/rand)
	return k
}

// token is the CSRF token of a browser (its nonce cookie) acting as principal.
func (k csrfKey) token(nonce, principal string) string {
	m := hmac.New(sha256.New, k[:])
	m.Write([]byte(nonce))
	m.Write([]byte{0})
	m.Write([]byte(principal))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfField is the form field (and csrfHeader the header) that carries the token.
const (
	csrfField  = "csrf"
	csrfHeader = "X-CSRF-Token"
)

// nonce returns the browser's CSRF nonce, setting a new one when it has none (or a malformed one).
func (c *Console) nonce(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(nonceCookie); err == nil && len(ck.Value) == 43 {
		return ck.Value
	}
	n := randomToken()
	c.setCookie(w, r, nonceCookie, n, 0)
	return n
}

// checkCSRF refuses a POST that does not carry the token of its browser and operator, or that another site
// sent (its Origin or Sec-Fetch-Site says so).
func (c *Console) checkCSRF(r *http.Request, op operator) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return errors.New("refused: the request comes from another site")
	}
	if o := r.Header.Get("Origin"); o != "" {
		if u, err := url.Parse(o); err != nil || u.Host != r.Host {
			return errors.New("refused: the request comes from another origin")
		}
	}
	ck, err := r.Cookie(nonceCookie)
	if err != nil {
		return errors.New("refused: no CSRF cookie; reload the page and try again")
	}
	sent := r.Header.Get(csrfHeader)
	if sent == "" {
		sent = r.PostFormValue(csrfField)
	}
	want := c.csrf.token(ck.Value, op.principal())
	if sent == "" || !hmac.Equal([]byte(sent), []byte(want)) {
		return errors.New("refused: the CSRF token is missing or wrong; reload the page and try again")
	}
	return nil
}
