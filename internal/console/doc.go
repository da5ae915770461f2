// Package console is the billing operator's web console: server-rendered pages (html/template) over the
// operator service layer, called in-process — internal/status (overview, periods), internal/lineage (explain,
// files), internal/usage (a subscription's usage), internal/ledger (a file's history) and Connect (its status
// and records), and the write side's dead letters and parked files, whose actions it offers. Templates, the
// style sheet and a small script are embedded (no build step, nothing fetched from elsewhere).
//
// # Pages
//
// Overview (/), Periods (/periods), File (/file), Subscription (/subscription), Explain (/explain), Dead
// letters (/deadletters) and Parked (/parked). Every page is complete HTML without JavaScript. Parts that
// change (statuses, periods, lags) are marked as fragments: the script asks the same URL for one fragment
// (header X-Console-Fragment) every few seconds (Options.Refresh) while the tab is visible, and swaps it in.
// Lists are paged and every read is bounded (status.PeriodQuery pages, Connect records by page, a short-lived
// cache of the status report shared by every viewer).
//
// # Who may look and act
//
// Operators are those of internal/opsapi (Keys: NAME=KEY, hashes only). A request is an operator's when it
// carries "Authorization: Bearer <key>", or the session cookie a login with a key set (a random id, HttpOnly,
// SameSite=Strict, Secure under TLS or Options.SecureCookies; sessions live in memory for SessionTTL), or — only
// when Options.AllowLoopback is set, the listener is loopback-only and the request comes from loopback (usagepipe
// dev) — it is served as opsapi.LoopbackOperator. Anyone else is sent to the login form (pages) or refused
// (401). Actions are POSTs and carry a CSRF token (a hidden field, or the X-CSRF-Token header): an HMAC, under a
// per-process secret, of a random cookie and of who acts; a POST without it, or with another one, is refused
// (403) before anything is read. An action runs with ledger.Actor{Name: operator, Via: "console"}, which the
// service layer records in the ledger history (and the replay log).
//
// # Concurrency
//
// A Console is safe for concurrent use; its session table and status cache are guarded by their own mutexes.
package console
