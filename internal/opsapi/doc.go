// Package opsapi is the operator HTTP API of usagepipe: one http.Handler under /api/v1/ over the operator
// service layer (explain, current usage, status; dead letters and parked files when those services are given),
// answering JSON, behind operator keys.
//
// # Authentication
//
// Every request carries "Authorization: Bearer <operator key>". Keys are configured as NAME=KEY entries
// (Keys, LoadKeys): the name is who acts, recorded with every write action (Operator). Only the keys' SHA-256
// are kept, and a presented key is compared with every one in constant time. A listener that is loopback-only
// may be opened to requests without a key (Options.AllowLoopback: usagepipe dev, or a service's
// --operator-allow-loopback); such requests act as the operator LoopbackOperator, and a key, when one is
// sent anyway, still names its operator. Listen refuses a non-loopback address without keys: nothing is open
// to the network without a key.
//
// # Errors
//
// Every failure is answered with a JSON body {"error": {"status", "reason", "message"[, "details"]}} and the
// matching HTTP status; reason is a stable, machine-readable code (the Reason* constants). Handlers return an
// *Error (or any error, answered as 500 "internal" without its text leaking secrets: the service layer's
// errors never carry one).
//
// # Extending
//
// Routes are registered with Server.Handle (method and path pattern, as net/http.ServeMux reads them) by the
// route sets of this package (routes_*.go), each over a service given in Services. A nil service leaves its
// routes unregistered (404 with reason not_served). The write side's (routes_write.go: dead letters and their
// replay, parked files and retry, resubmit, abandon as POST) act as the request's operator; an action that
// does not apply now is 409 with reason conflict, saying why.
//
// # Concurrency
//
// A Server is safe for concurrent use once built; handlers run concurrently, one per request.
package opsapi
