// Package events is the vocabulary every usagepipe stage shares: the CloudEvents
// usage event and its decoding, the exact Decimal used for quantities and
// amounts, validation with typed reason codes, the product catalog, period
// arithmetic in a product's time zone, the partition function and the wire
// types exchanged between ingest, aggregator and submitter.
//
// The package does no I/O except LoadCatalog and imports nothing heavier than
// the standard library, apd and yaml. Every exported value is immutable once
// built (Decimal, Event, Catalog after ParseCatalog/NewCatalog), so it is safe
// for concurrent use by any number of goroutines; Digest is a plain value that
// the caller owns.
package events
