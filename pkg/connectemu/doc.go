// Package connectemu is an emulator of CloudBlue Connect's Usage API: an http.Handler that serves the
// same operations, with the same wire format (the types of package usageapi) and the same behaviour as the
// real service, so that the client, the submitter and the whole pipeline run for real without Connect.
// `usagepipe emulator` serves it, `usagepipe dev` and `usagepipe chaos` run it, and tests start it through
// package usageapitest, whose conformance suite runs the client against it and against a real Connect.
//
// # Model
//
// An Emulator holds a Catalog, its own world model (vendor, marketplaces and hubs, contracts, products
// with schema and items, assets with parameters; it knows nothing of the pipeline's catalog, which
// package devstack maps into one), and the objects created through the API: usage files, records, chunks,
// reconciliations and usage rules. A usage file follows Connect's state machine:
//
//	draft → uploading → processing → ready | invalid      upload; processing runs in the background
//	invalid | ready | rejected → uploading                  re-upload
//	ready → pending                                         submit
//	pending → accepted | rejected                           provider (API, Go helpers, rules or ProviderPolicy)
//	accepted → closed                                       provider close, last chunk closed, reconciliation
//	draft | invalid | ready → deleted                       delete
//
// Any other operation is answered 400 {"error_code":"USG_001","errors":[…]}, and so is closing a file while
// an approved record has no external billing data. Processing is real: the uploaded workbook is read with
// package usagefile and each row checked against the catalog and the file (unknown item or asset, bad
// number, more decimals than the item's precision, bad or reversed times, duplicate record id; times
// outside the file's period are accepted, as Connect accepts them); one bad row makes the file invalid,
// with a processed workbook explaining every error in an error column and in comments on the cells, and
// every row stored as a record with status invalid; otherwise the file is ready and every row is stored as
// a valid record, queryable. Lists honour limit/offset/limit=0 with Content-Range and the RQL filters the
// spec documents for each endpoint, with each field's lookups, enum and orderable flag, under lib-rql's
// grammar (package rql); without ordering() they come newest first. Wherever Connect's behaviour is not
// documented and a lenient emulator could let a client pass a test it would fail in production, the
// emulator is the stricter one; where a real Connect was seen to be more lenient, so is the emulator. Faults (latency, 429, 5xx, connection reset, commit-then-drop, list lag, and the answers a
// proxy garbles: empty, null and HTML 200s and redirects, each also after serving the request) can be
// injected per operation. Error codes, the ids of chunks, reconciliations and rules and the chunk and
// reconciliation workbook formats are not documented by Connect; docs/emulator.md lists the emulator's
// choices.
//
// # Concurrency
//
// An Emulator is safe for concurrent use. One mutex guards the whole state: every request and every
// background step (processing, provider decisions, chunk generation) takes it for the time of an in-memory
// change, and parses or writes workbooks outside it (an upload is read once, when it arrives, and processed
// from what was read). Records find their assets and items through an index of the catalog, rebuilt when
// the catalog changes. A change is persisted (when Options.StatePath is set) before its request is
// answered: state writes never overlap, and the changes made while one runs share the next. Background
// steps run on timers; Settle waits until none is left, and Changed returns a channel closed at the next
// change, so tests wait for events instead of sleeping.
package connectemu
