package usageapi

import (
	"encoding/json"
	"fmt"
	"time"
)

// This file holds the small objects shared by several resources. JSON names are the spec's (v37).
// Numbers that carry quantities or money are json.Number: exact decimal text, never float64
// (convert with events.ParseDecimal or similar at the edge).

// IDRef is a reference written by the client: {"id": "..."} (product, contract, item in requests).
type IDRef struct {
	ID string `json:"id"`
}

// Account is a vendor or provider account (usage.ReferenceAccount).
type Account struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	Icon string `json:"icon,omitempty"`
}

// Marketplace is a marketplace reference (usage.ReferenceMarketplace).
type Marketplace struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	Icon string `json:"icon,omitempty"`
}

// Product is a product reference (usage.Products; every field nullable).
type Product struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
	Icon string `json:"icon,omitempty"`
}

// Contract is a distribution contract reference (usage.ReferenceContract).
type Contract struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Hub is a hub reference (usage.ReferenceHub).
type Hub struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Binding is the hub binding of a chunk or reconciliation (usage.ReferenceBinding).
type Binding struct {
	ExternalID string `json:"external_id,omitempty"`
	Hub        *Hub   `json:"hub,omitempty"`
}

// User is the actor of an event (usage.ReferenceUser).
type User struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Event is one lifecycle event (usage.UsageEvents): when, and by whom (absent for automatic actions).
type Event struct {
	At time.Time `json:"at"`
	By *User     `json:"by,omitempty"`
}

// Events are the lifecycle events of a usage file, chunk or reconciliation.
type Events struct {
	Created   *Event `json:"created,omitempty"`
	Uploaded  *Event `json:"uploaded,omitempty"`
	Submitted *Event `json:"submitted,omitempty"`
	Accepted  *Event `json:"accepted,omitempty"`
	Closed    *Event `json:"closed,omitempty"`
	Rejected  *Event `json:"rejected,omitempty"`
	Deleted   *Event `json:"deleted,omitempty"`
}

// Stats counts the records of a usage file or chunk by stage (read-only).
type Stats struct {
	Uploaded  int `json:"uploaded"`
	Validated int `json:"validated"`
	Pending   int `json:"pending"`
	Accepted  int `json:"accepted"`
	Closed    int `json:"closed"`
	Billed    int `json:"billed"`
}

// ErrorDetail is the error object of a chunk or reconciliation.
type ErrorDetail struct {
	Detail string `json:"detail,omitempty"`
}

// FileRef is the short form of a usage file embedded in records, chunks and reconciliations
// (usage.ReferenceUsageFile).
type FileRef struct {
	ID       string `json:"id,omitempty"`
	Name     string `json:"name,omitempty"`
	Schema   Schema `json:"schema,omitempty"`
	Currency string `json:"currency,omitempty"`
}

// ErrorBody is the body of an error answer (usage.any_400): {"error_code", "errors"}.
// Params appears in some real answers.
type ErrorBody struct {
	ErrorCode string         `json:"error_code"`
	Errors    []string       `json:"errors"`
	Params    map[string]any `json:"params,omitempty"`
}

// Date is a calendar date without time zone, written YYYY-MM-DD (spec format "date").
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("usageapi: parse date %q: %w", s, err)
	}
	return DateOf(t), nil
}

// String returns YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// IsZero reports whether d is the zero Date (used by omitzero).
func (d Date) IsZero() bool { return d == Date{} }

// Time returns midnight UTC of d.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; it also accepts a date-time and keeps its date.
func (d *Date) UnmarshalText(b []byte) error {
	s := string(b)
	if len(s) > len(time.DateOnly) {
		s = s[:len(time.DateOnly)]
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Period is the reporting period of a usage file; both ends are dates.
type Period struct {
	From Date `json:"from,omitzero"`
	To   Date `json:"to,omitzero"`
}

// idOrObject decodes a reference that a server writes either as a bare id string
// or as an object with an "id" (the create answer differs between spec and servers).
type idOrObject struct {
	ID   string
	Name string
	Icon string
}

func (r *idOrObject) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &r.ID)
	}
	var o struct{ ID, Name, Icon string }
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	*r = idOrObject(o)
	return nil
}
