// Package natsembedtest starts embedded NATS servers (package natsembed) for tests, on free ports with
// temporary stores, shut down when the test ends, and writes throw-away TLS certificates. It is apart from
// natsembed so that no shipped binary links package testing.
//
// # Concurrency
//
// Its functions run on the test's goroutine; the servers they start are safe for concurrent use.
package natsembedtest
