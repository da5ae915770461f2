// Package pipelinetest is the whole pipeline in one test process, for the tests of the operator services
// (lineage, usage, status, the operator API): an embedded JetStream, the Connect emulator behind a real HTTP
// server, aggregator workers (in-process, or as child processes that a test can SIGKILL) and a submitter, over a
// catalog whose periods close within seconds. Events are published as ingest writes them (one packet per
// partition, sorted by key). It is imported by tests only.
//
// A test package that starts aggregator children calls Main from its TestMain: the test binary, re-executed
// with ChildEnv set, runs the aggregator command instead of the tests.
//
// # Concurrency
//
// A World is used from the test's goroutine; its services run on their own.
package pipelinetest
