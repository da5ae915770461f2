// Package natsembed runs nats-server with JetStream inside the current process: for tests (through package
// natsembedtest), for `usagepipe dev` and for `usagepipe nats`, which the chaos harness runs as a separate OS
// process to SIGKILL it.
//
// Model: a Server owns one nats-server instance listening on a fixed loopback TCP port and one file store
// directory. Restart stops it gracefully and starts a new instance on the same port and store, so clients
// connected over TCP simply reconnect and find their streams. A Cluster is n such servers joined by routes.
//
// A running server holds its store directory's lock (internal/dirlock) from start to shutdown, so that no two
// servers, of this process or another, ever run on one store (the second would lose acknowledged messages):
// Start fails with an error matching dirlock.ErrHeld that names the holder's pid. The lock goes with its
// process, SIGKILL included.
//
// Options.Auth (users with passwords, public nkeys, or a token) and Options.TLS (a TLS-only client port,
// optionally requiring client certificates) secure the client port; both are checked by Start. Start refuses
// to open a client port without Auth, or a route port (routes take no credentials), beyond loopback unless
// Options.AllowAnonymous says so (ErrExposed).
//
// Concurrency: all methods of Server and Cluster are safe for concurrent use. This package imports nats-server
// only; clients use internal/bus.
package natsembed
