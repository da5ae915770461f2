// Package svcstatus is the service heartbeat: every service process (ingest, aggregator, submitter) writes a
// Heartbeat to the KV bucket usagepipe_status (bus.BucketStatus) under svc.<kind>.<member> every Interval,
// and deletes it when it stops cleanly. The bucket's TTL (bus.StatusTTL, 30 s) removes the heartbeat of a
// process that stops writing (killed, hung, cut off), so a service missing from the bucket is down. The
// heartbeat carries the process's identity (kind, member, version, start time, ops address) and its own view:
// ingest's accepted, duplicate and rejected events (totals and rates over the last minute), an aggregator's
// partitions with their lag, a submitter's files by ledger state. Status readers (internal/status, the
// console) list them with Read.
//
// # Concurrency
//
// Run is one goroutine per process; its fill function is called from it. Rates is safe for concurrent use.
// Read and Key are safe for concurrent use.
package svcstatus
