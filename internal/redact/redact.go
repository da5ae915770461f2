// Package redact hides secrets in text meant for people (configuration dumps, logs, errors): it is the one
// place that says how a secret prints and how the user info of a URL is hidden.
//
// Model: a secret prints as [Mark]. A URL's user info ("user:password@" or "token@") is a secret as a whole:
// a token-style user is as secret as a password, and a user name next to a password says which account to
// attack. Redaction errs on the side of hiding: everything between the scheme and the last '@' of each
// comma-separated URL is hidden, so a password holding '/', '?' or '#' is hidden too.
//
// Concurrency: the functions are pure.
package redact

import "strings"

// Mark is how a secret prints.
const Mark = "[REDACTED]"

// URLs hides the user info of each comma-separated URL of list (nats://a:b@h:4222,nats://h2 →
// nats://[REDACTED]@h:4222,nats://h2); elements without '@' are kept as they are (without surrounding space).
func URLs(list string) string {
	if !strings.Contains(list, "@") {
		return list
	}
	parts := strings.Split(list, ",")
	for i, u := range parts {
		parts[i] = url(strings.TrimSpace(u))
	}
	return strings.Join(parts, ",")
}

// url hides the user info of one URL.
func url(u string) string {
	at := strings.LastIndex(u, "@")
	if at < 0 {
		return u
	}
	scheme := ""
	if j := strings.Index(u[:at], "://"); j >= 0 {
		scheme = u[:j+3]
	}
	return scheme + Mark + u[at:]
}

// HasUserInfo reports whether any URL of the comma-separated list carries user info.
func HasUserInfo(list string) bool { return strings.Contains(list, "@") }
