// Package rql is the RQL of Connect's list endpoints as the emulator serves it: a parser held to
// lib-rql's grammar (the one django-rql uses on the real service), and the evaluation of a parsed query
// over one endpoint's objects, filter, search=term, ordering() and the limit/offset window with its
// Content-Range.
//
// # Model
//
// Parse turns a raw query string into a Query, refusing (ErrInvalid) what lib-rql's grammar refuses
// wherever leniency could fool a client. A Resource describes an endpoint: its filterable fields, each
// with how to read it from an object and what the spec's parameter description allows on it (lookups,
// enum, search, ordering, date-time). Resource.List checks the query against those fields (ErrInvalid for
// an unknown field or a use the spec does not offer, as django-rql answers 400) and returns one Page.
// Values compare as numbers when both sides are numbers, as instants when both are dates or date-times,
// otherwise as text; without ordering() a list comes newest first.
//
// # Concurrency
//
// A Query and a Resource are immutable once built and safe for concurrent use; List does not modify the
// slice it is given.
package rql
