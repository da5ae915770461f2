// Package usageapitest helps tests that talk to Connect's Usage API: NewServer starts the Connect emulator
// (package connectemu) behind a real HTTP server and hands back a client of it, both closed when the test
// ends. Its tests are the Connect conformance suite: the client against the emulator, and against a real
// Connect when CONNECT_API_URL and CONNECT_API_KEY are set (docs/emulator.md).
//
// # Concurrency
//
// A Server is safe for concurrent use, as its emulator and client are; NewServer and the cleanup it
// registers run on the test's goroutine.
package usageapitest
