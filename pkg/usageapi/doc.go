// Package usageapi is a typed client of CloudBlue Connect's Usage API (the /usage* paths of the
// public API v37, /usage/aggregates variants and /products/{id}/usage/rules).
//
// # Model
//
// A vendor creates a usage file for a product, contract and period (status draft), uploads a
// workbook (uploading → processing → ready | invalid), and submits it (ready → pending). The
// provider accepts or rejects it (pending → accepted | rejected) and closes it once billed
// (accepted → closed). Records, chunks, reconciliations, aggregates and usage rules are the
// provider-side views. The types of this package carry the spec's JSON field names and enums;
// the emulator (package connectemu) serves them.
//
// # Lists and queries
//
// List calls take RQL terms (Eq, In, And, Ordering, Select, Limit, …) and return an iterator
// that pages with limit/offset, reading Content-Range: items a-b/total. Count asks limit=0.
// Terms are written as lib-rql's grammar (which Connect parses with) accepts them: in(f,(a,b)),
// no logical operator inside not() (Not refuses one with ErrBadQuery), quoted values where needed.
// Offset paging needs a stable order: Files and Records add one (created.at,id; created_time)
// when the terms have no Ordering, so objects created meanwhile do not shift the pages.
//
// # Errors and retries
//
// A non-2xx answer is an *APIError (decoded from {"error_code","errors"}, or the body text when it
// is not that JSON); match it with errors.As or the sentinels (ErrNotFound, …). A 2xx answer is
// checked before anything is decoded from it: one that is not a well-formed answer of the expected
// type (empty, null, an HTML page or another non-JSON content type, JSON of another shape, an object
// without what its type must carry, e.g. a usage file without id or with a status outside the spec's
// enum) is a *MalformedAnswerError matching ErrMalformedAnswer, an unknown outcome: the client never
// returns such an object. The API client follows no redirect (the request and its API key would go
// elsewhere, and a POST would become a GET): a 3xx is an *APIError matching ErrRedirected, naming the
// target. Retryable reports network errors, malformed answers, 429 and 5xx as worth repeating; other
// 4xx and 3xx are permanent, and so are the network failures a repeat meets again (PermanentNetwork:
// an untrusted or invalid certificate, an unknown host).
//
// Each call gets a fresh exponential BackOff (backoff/v4 types are not thread-safe), capped by
// RetryPolicy (defaults: waits up to 4s before jitter, no wait ending past 20s, below JetStream's
// 30s AckWait), cancelled with the context, and floored by Retry-After (seconds or HTTP date); a
// hint that does not fit the budget ends the call with the 429/503, whose RetryAfter the caller
// can turn into a NakWithDelay. RetryPolicy.OnRetry reports each retry.
//
// Which calls retry, and why it is safe (a malformed answer counts as a lost one throughout; a
// redirect is never retried):
//   - GET (reads, lists page by page, downloads) and PUT (UpdateFile, ApproveAllRecords,
//     UpdateRecordStatus, UpdateChunk, UpdateRule): idempotent. DELETE of a rule: a 404 on a
//     retry counts as deleted.
//   - State-transition POSTs: SubmitFile, AcceptFile, RejectFile, CloseFile, DeleteFile. Connect
//     refuses (400) a transition from a status the file has left, so a repeat cannot apply twice;
//     a refused retry reads the file back and succeeds if the target status was reached (so a
//     transition served and then answered garbled ends as reached).
//   - Closing POSTs: CloseRecord, CloseChunk, CloseRecords: closing again with the same billing
//     id changes nothing; a refused retry reads the record or chunk back.
//   - UploadFile: reads the file before; after an ambiguous failure (no answer, 5xx, a malformed
//     answer) it reads it again and stops if the upload took effect (status or events.uploaded moved
//     on), else sends the same bytes.
//   - Never retried (one attempt): CreateFile, CreateRule, CreateReconciliation,
//     UploadReconciliation (they create objects), ReprocessFile and RegenerateChunk (Connect does
//     not refuse a repeat); a malformed answer to one of them means its outcome is unknown. FindOrCreateFile is the safe way to create a usage file: it looks up
//     external_id before any create and again after any failure that may hide a created file.
//     A create whose outcome is unknown (no answer, 5xx, a malformed 2xx, a 3xx, the context
//     ending in flight) fails with an error wrapping ErrAmbiguousCreate; look the file up with
//     WaitLag (FindFiles or FindOrCreateFile) before creating again, as lists may lag behind a create.
//
// Signed-link downloads (Download) carry no API key and are the only requests that follow redirects
// (a storage host may redirect).
//
// Calls made inside another call's attempt (the lookups of FindOrCreateFile, the read-backs)
// make a single attempt each, so one budget bounds the whole call.
//
// # Concurrency
//
// A Client is safe for concurrent use once built; it holds no per-call state. Iterators are not
// safe for concurrent use.
//
// No secret (the API key) appears in an error, a log line or a span attribute.
package usageapi
