// Package usagefile writes and reads the usage workbook (xlsx) that CloudBlue
// Connect's Usage API takes as a usage file upload, and writes the processed
// workbook Connect hands back after validating one.
//
// # Model
//
// A usage workbook has a records sheet (one row per usage record, columns
// matched by header name) and a categories sheet. Other sheets (instructions,
// general, intro, …) carry no data for Connect and are ignored on read.
//
// [Writer] streams records into the records sheet with excelize's
// StreamWriter. Every record carries all Connect columns in the same order
// whatever the schema (what a schema requires follows events.Schema), and a
// numeric cell is never left empty: a missing amount is 0. Quantity and
// amount are numeric cells holding the exact decimal text at the item's
// precision, never a float64 (see decimalzip.go for how, since excelize's
// StreamWriter cannot take a number as text). Times are `YYYY-MM-DD
// hh:mm:ss` text in UTC. The same input always produces the same bytes.
//
// [Read] parses an uploaded workbook as Connect does: the records sheet is
// `records` or the legacy `usage_records`, the record id column `record_id`
// or the legacy `usage_record_id`, columns may come in any order and numbers
// as numeric cells or text, read exactly from the cell's raw value.
// Problems found in a row (a bad number, a bad time, a missing value) are
// collected with their row and column instead of failing the read; only a
// workbook that is not an xlsx or has no records sheet is an error, and a
// malformed one never panics.
//
// [WriteProcessed] writes the processed variant: sheets general (report
// attributes), categories and records with a status and an error column,
// and each invalid cell's explanation as a comment on it, the way Connect
// explains invalid data. Read gives a processed row's error text from the
// error column or, failing that, from the row's cell comments.
//
// # Concurrency
//
// A [Writer] or [ProcessedWriter] belongs to one goroutine. [Read], [Write]
// and [WriteProcessed] share no state and may run concurrently.
package usagefile
