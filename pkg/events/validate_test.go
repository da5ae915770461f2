package events

import (
	"strings"
	"testing"
	"time"
)

const testCatalogYAML = `
products:
  - id: PRD-QT
    schema: QT
    currency: USD
    contracts: [CRD-1, CRD-2]
    marketplaces: [MP-1]
    time_zone: Europe/Madrid
    period: {kind: monthly}
    allowed_lateness: 1h
    items:
      - {mpn: GB, precision: decimal(2), aggregation: sum}
      - {mpn: REQ, precision: integer, aggregation: count}
      - {mpn: NEG, precision: integer, aggregation: sum, allow_negative: true}
      - {mpn: USERS, precision: integer, aggregation: unique_count, unique_attribute: user}
  - id: PRD-CR
    schema: CR
    currency: EUR
    contracts: [CRD-3]
    period: {kind: daily}
    max_event_age: 48h
    items:
      - {mpn: SEAT, precision: integer, aggregation: max}
  - id: PRD-TR
    schema: TR
    currency: EUR
    contracts: [CRD-4]
    period: {kind: daily}
    items:
      - {mpn: MIN, precision: decimal(4), aggregation: sum}
  - id: PRD-PARAM
    schema: QT
    currency: EUR
    contracts: [CRD-5]
    period: {kind: daily}
    asset_search: parameter.subscription_id
    items:
      - {mpn: GB, precision: integer, aggregation: sum}
`

var testNow = time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC)

func testCatalog(t testing.TB) *Catalog {
	t.Helper()
	c, err := ParseCatalog([]byte(testCatalogYAML))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// goodEvent is a valid event for PRD-QT/GB as JSON; tests edit it with strings.Replace.
const goodEvent = `{"specversion":"1.0","id":"ev-1","source":"/meter/eu-1","type":"io.usagepipe.usage.v1",` +
	`"subject":"AS-1234-5678-9012","time":"2026-05-20T11:59:00.123456789+02:00",` +
	`"data":{"product":"PRD-QT","item":"GB","quantity":"12.5","attributes":{"region":"eu"}}}`

func TestDecodeEvent(t *testing.T) {
	e, rej := DecodeEvent([]byte(goodEvent))
	if rej != nil {
		t.Fatal(rej)
	}
	if e.Time != utc("2026-05-20T09:59:00.123456789Z") || e.Time.Location() != time.UTC {
		t.Errorf("time = %v", e.Time)
	}
	if e.Key() != (Key{Source: "/meter/eu-1", ID: "ev-1"}) || e.Data.Quantity.String() != "12.5" || e.Data.Attributes["region"] != "eu" {
		t.Errorf("decoded %+v", e)
	}
	if r := testCatalog(t).Validate(&e, testNow); r != nil {
		t.Errorf("Validate: %v", r)
	}
}

func TestDecodeEventRejections(t *testing.T) {
	rep := func(old, new string) string { return strings.Replace(goodEvent, old, new, 1) }
	tests := []struct {
		name, in string
		reason   Reason
		field    string
	}{
		{"not json", `{"id":`, ReasonBadJSON, ""},
		{"array", `[1]`, ReasonBadJSON, ""},
		{"string id", rep(`"id":"ev-1"`, `"id":7`), ReasonBadJSON, "id"},
		{"no time", rep(`"time":"2026-05-20T11:59:00.123456789+02:00",`, ""), ReasonMissingField, "time"},
		{"null time", rep(`"2026-05-20T11:59:00.123456789+02:00"`, `null`), ReasonMissingField, "time"},
		{"time without zone", rep(`+02:00"`, `"`), ReasonBadTime, "time"},
		{"time as number", rep(`"2026-05-20T11:59:00.123456789+02:00"`, `1747740000`), ReasonBadTime, "time"},
		{"time date only", rep(`2026-05-20T11:59:00.123456789+02:00`, `2026-05-20`), ReasonBadTime, "time"},
		{"no data", `{"specversion":"1.0","id":"a","source":"s","type":"t","subject":"AS-1","time":"2026-05-20T11:59:00Z"}`, ReasonMissingField, "data"},
		{"data not object", `{"specversion":"1.0","id":"a","source":"s","type":"t","subject":"AS-1","time":"2026-05-20T11:59:00Z","data":[1]}`, ReasonBadJSON, "data"},
		{"data.product number", rep(`"product":"PRD-QT"`, `"product":1`), ReasonBadJSON, "data.product"},
		{"no quantity", rep(`"quantity":"12.5",`, ``), ReasonMissingField, "data.quantity"},
		{"null quantity", rep(`"quantity":"12.5"`, `"quantity":null`), ReasonMissingField, "data.quantity"},
		{"NaN quantity", rep(`"12.5"`, `"NaN"`), ReasonBadQuantity, "data.quantity"},
		{"empty quantity", rep(`"12.5"`, `""`), ReasonBadQuantity, "data.quantity"},
		{"bool quantity", rep(`"12.5"`, `true`), ReasonBadQuantity, "data.quantity"},
		{"garbage amount", rep(`"quantity":"12.5"`, `"quantity":"12.5","amount":"1,5"`), ReasonBadAmount, "data.amount"},
		{"fractional tier", rep(`"quantity":"12.5"`, `"quantity":"12.5","tier":1.5`), ReasonBadTier, "data.tier"},
		{"string tier", rep(`"quantity":"12.5"`, `"quantity":"12.5","tier":"x"`), ReasonBadTier, "data.tier"},
		{"huge tier", rep(`"quantity":"12.5"`, `"quantity":"12.5","tier":99999999999`), ReasonBadTier, "data.tier"},
		{"numeric attribute", rep(`"region":"eu"`, `"region":1`), ReasonBadAttribute, "data.attributes.region"},
		{"attributes not object", rep(`{"region":"eu"}`, `["eu"]`), ReasonBadAttribute, "data.attributes"},
		{"too large", `{"id":"` + strings.Repeat("a", MaxEventBytes) + `"}`, ReasonTooLarge, ""},
		{"name not valid text", rep(`"specversion"`, `"ext\ud800":1,"specversion"`), ReasonBadJSON, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, rej := DecodeEvent([]byte(tt.in))
			if rej == nil {
				t.Fatal("accepted")
			}
			if rej.Reason != tt.reason || rej.Field != tt.field || rej.Message == "" {
				t.Fatalf("rejection %+v, want %s %q", rej, tt.reason, tt.field)
			}
		})
	}
}

func TestDecodeEventLenient(t *testing.T) {
	rep := func(old, new string) string { return strings.Replace(goodEvent, old, new, 1) }
	tests := []struct{ name, in, quantity string }{
		{"number quantity", rep(`"12.5"`, `12.50`), "12.5"},
		{"exponent quantity", rep(`"12.5"`, `"1.25e1"`), "12.5"},
		{"unknown attributes ignored", rep(`"specversion"`, `"comexampleext":{"a":[1]},"specversion"`), "12.5"},
		{"integral tier as float", rep(`"quantity":"12.5"`, `"quantity":"12.5","tier":2.0`), "12.5"},
	}
	for _, tt := range tests {
		e, rej := DecodeEvent([]byte(tt.in))
		if rej != nil || e.Data.Quantity.String() != tt.quantity {
			t.Errorf("%s: %v %v", tt.name, rej, e.Data.Quantity)
		}
	}
}

// validEvent is a valid PRD-QT/GB event; tests mutate copies.
func validEvent() Event {
	return Event{
		SpecVersion: "1.0", ID: "ev-1", Source: "/meter", Type: EventType, Subject: "AS-1234-5678-9012",
		Time: testNow.Add(-time.Hour),
		Data: Usage{Product: "PRD-QT", Item: "GB", Quantity: MustDecimal("1.25")},
	}
}

func TestValidate(t *testing.T) {
	amount := func(s string) *Decimal { d := MustDecimal(s); return &d }
	tests := []struct {
		name   string
		edit   func(e *Event)
		reason Reason // "" = valid
		field  string
	}{
		{"valid", func(e *Event) {}, "", ""},
		{"no specversion", func(e *Event) { e.SpecVersion = "" }, ReasonMissingField, "specversion"},
		{"specversion 0.3", func(e *Event) { e.SpecVersion = "0.3" }, ReasonBadSpecVersion, "specversion"},
		{"no id", func(e *Event) { e.ID = "" }, ReasonMissingField, "id"},
		{"no source", func(e *Event) { e.Source = "" }, ReasonMissingField, "source"},
		{"no type", func(e *Event) { e.Type = "" }, ReasonMissingField, "type"},
		{"any type", func(e *Event) { e.Type = "com.example.other" }, "", ""},
		{"no subject", func(e *Event) { e.Subject = "" }, ReasonMissingField, "subject"},
		{"long subject", func(e *Event) { e.Subject = strings.Repeat("s", 257) }, ReasonTooLarge, "subject"},
		{"256-byte id", func(e *Event) { e.ID = strings.Repeat("i", 256) }, "", ""},
		{"long id", func(e *Event) { e.ID = strings.Repeat("i", 257) }, ReasonTooLarge, "id"},
		{"no time", func(e *Event) { e.Time = time.Time{} }, ReasonMissingField, "time"},
		{"no product", func(e *Event) { e.Data.Product = "" }, ReasonMissingField, "data.product"},
		{"no item", func(e *Event) { e.Data.Item = "" }, ReasonMissingField, "data.item"},
		{"unknown product", func(e *Event) { e.Data.Product = "PRD-X" }, ReasonUnknownProduct, "data.product"},
		{"unknown item", func(e *Event) { e.Data.Item = "X" }, ReasonUnknownItem, "data.item"},
		{"short asset id", func(e *Event) { e.Subject = "AS-1" }, ReasonBadSubject, "subject"},
		{"asset id with letters", func(e *Event) { e.Subject = "AS-1234-5678-901X" }, ReasonBadSubject, "subject"},
		{"asset id without dashes", func(e *Event) { e.Subject = "AS-12345678-9012-" }, ReasonBadSubject, "subject"},
		{"asset id too long", func(e *Event) { e.Subject = "AS-1234-5678-90123" }, ReasonBadSubject, "subject"},
		{"lower-case asset id", func(e *Event) { e.Subject = "as-1234-5678-9012" }, ReasonBadSubject, "subject"},
		{"vendor id for a parameter product", func(e *Event) {
			e.Data.Product, e.Data.Item, e.Subject = "PRD-PARAM", "GB", "cust-000042"
			e.Data.Quantity = MustDecimal("1")
		}, "", ""},
		{"blank vendor id for a parameter product", func(e *Event) {
			e.Data.Product, e.Data.Item, e.Subject = "PRD-PARAM", "GB", " \u00a0 "
			e.Data.Quantity = MustDecimal("1")
		}, ReasonBadSubject, "subject"},
		{"NUL in id", func(e *Event) { e.ID = "ev\x001" }, ReasonControlCharacter, "id"},
		{"newline in source", func(e *Event) { e.Source = "/meter\n" }, ReasonControlCharacter, "source"},
		{"C1 control in source", func(e *Event) { e.Source = "/meter\u0085" }, ReasonControlCharacter, "source"},
		{"DEL in subject", func(e *Event) {
			e.Data.Product, e.Data.Item, e.Subject = "PRD-PARAM", "GB", "cust\x7f"
			e.Data.Quantity = MustDecimal("1")
		}, ReasonControlCharacter, "subject"},
		{"non-ASCII id", func(e *Event) { e.ID = "é-\u00a0-😀" }, "", ""},
		{"5 min ahead", func(e *Event) { e.Time = testNow.Add(FutureSkew) }, "", ""},
		{"in future", func(e *Event) { e.Time = testNow.Add(FutureSkew + time.Nanosecond) }, ReasonInFuture, "time"},
		{"35 days old", func(e *Event) { e.Time = testNow.Add(-DefaultMaxEventAge) }, "", ""},
		{"too old", func(e *Event) { e.Time = testNow.Add(-DefaultMaxEventAge - time.Nanosecond) }, ReasonTooOld, "time"},
		{"too old for product max age", func(e *Event) {
			e.Data.Product, e.Data.Item, e.Data.Amount = "PRD-CR", "SEAT", amount("1")
			e.Time = testNow.Add(-49 * time.Hour)
		}, ReasonTooOld, "time"},
		{"named contract", func(e *Event) { e.Data.Contract = "CRD-2" }, "", ""},
		{"unknown contract", func(e *Event) { e.Data.Contract = "CRD-3" }, ReasonUnknownContract, "data.contract"},
		{"known marketplace", func(e *Event) { e.Data.Marketplace = "MP-1" }, "", ""},
		{"unknown marketplace", func(e *Event) { e.Data.Marketplace = "MP-2" }, ReasonUnknownMarketplace, "data.marketplace"},
		{"too precise", func(e *Event) { e.Data.Quantity = MustDecimal("1.255") }, ReasonBadQuantity, "data.quantity"},
		{"trailing zeros fine", func(e *Event) { e.Data.Quantity = MustDecimal("1.2500") }, "", ""},
		{"negative", func(e *Event) { e.Data.Quantity = MustDecimal("-1") }, ReasonBadQuantity, "data.quantity"},
		{"negative allowed", func(e *Event) { e.Data.Item, e.Data.Quantity = "NEG", MustDecimal("-1") }, "", ""},
		{"zero", func(e *Event) { e.Data.Quantity = Decimal{} }, "", ""},
		{"20 integer digits", func(e *Event) { e.Data.Quantity = MustDecimal("99999999999999999999.99") }, "", ""},
		{"21 integer digits", func(e *Event) { e.Data.Quantity = MustDecimal("100000000000000000000") }, ReasonBadQuantity, "data.quantity"},
		{"count ignores value", func(e *Event) { e.Data.Item, e.Data.Quantity = "REQ", MustDecimal("-0.123") }, "", ""},
		{"count still bounded", func(e *Event) { e.Data.Item, e.Data.Quantity = "REQ", MustDecimal("1e25") }, ReasonBadQuantity, "data.quantity"},
		{"CR without amount", func(e *Event) { e.Data.Product, e.Data.Item = "PRD-CR", "SEAT"; e.Data.Quantity = MustDecimal("3") }, ReasonBadAmount, "data.amount"},
		{"CR amount", func(e *Event) {
			e.Data.Product, e.Data.Item, e.Data.Quantity, e.Data.Amount = "PRD-CR", "SEAT", MustDecimal("3"), amount("0.12345678")
		}, "", ""},
		{"CR amount too precise", func(e *Event) {
			e.Data.Product, e.Data.Item, e.Data.Quantity, e.Data.Amount = "PRD-CR", "SEAT", MustDecimal("3"), amount("0.123456789")
		}, ReasonBadAmount, "data.amount"},
		{"CR negative amount", func(e *Event) {
			e.Data.Product, e.Data.Item, e.Data.Quantity, e.Data.Amount = "PRD-CR", "SEAT", MustDecimal("3"), amount("-1")
		}, ReasonBadAmount, "data.amount"},
		{"huge amount", func(e *Event) { e.Data.Amount = amount("1e21") }, ReasonBadAmount, "data.amount"},
		{"QT optional amount", func(e *Event) { e.Data.Amount = amount("2.5") }, "", ""},
		{"TR tier", func(e *Event) { e.Data.Product, e.Data.Item, e.Data.Tier = "PRD-TR", "MIN", 2 }, "", ""},
		{"TR without tier", func(e *Event) { e.Data.Product, e.Data.Item = "PRD-TR", "MIN" }, ReasonBadTier, "data.tier"},
		{"tier on QT", func(e *Event) { e.Data.Tier = 1 }, ReasonBadTier, "data.tier"},
		{"unique attribute", func(e *Event) {
			e.Data.Item, e.Data.Quantity, e.Data.Attributes = "USERS", MustDecimal("1"), map[string]string{"user": "u-1"}
		}, "", ""},
		{"missing unique attribute", func(e *Event) {
			e.Data.Item, e.Data.Quantity, e.Data.Attributes = "USERS", MustDecimal("1"), map[string]string{"other": "u-1"}
		}, ReasonMissingAttribute, "data.attributes.user"},
	}
	c := testCatalog(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := validEvent()
			tt.edit(&e)
			rej := c.Validate(&e, testNow)
			switch {
			case tt.reason == "" && rej != nil:
				t.Fatalf("rejected: %v", rej)
			case tt.reason != "" && rej == nil:
				t.Fatalf("accepted, want %s", tt.reason)
			case rej != nil && (rej.Reason != tt.reason || rej.Field != tt.field || rej.Message == ""):
				t.Fatalf("rejection %+v, want %s %q", rej, tt.reason, tt.field)
			}
		})
	}
}

func TestValidateNilCatalog(t *testing.T) {
	var c *Catalog
	e := validEvent()
	if r := c.Validate(&e, testNow); r == nil || r.Reason != ReasonUnknownProduct {
		t.Fatalf("nil catalog: %v", r)
	}
}

func TestRejectionError(t *testing.T) {
	r := &Rejection{Reason: ReasonBadQuantity, Field: "data.quantity", Message: "negative"}
	if r.Error() != "bad_quantity: data.quantity: negative" {
		t.Fatal(r.Error())
	}
	r.Field = ""
	if r.Error() != "bad_quantity: negative" {
		t.Fatal(r.Error())
	}
}

func TestSplitBatch(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want []string
		err  error
	}{
		{`[]`, 10, nil, nil},
		{` [ {"a":1} , {"b":[1,{"c":"]"}]},"x\"]",3,null ] `, 10, []string{`{"a":1}`, `{"b":[1,{"c":"]"}]}`, `"x\"]"`, `3`, `null`}, nil},
		{`[{},{}]`, 2, []string{`{}`, `{}`}, nil},
		{`[{},{},{}]`, 2, nil, ErrTooManyEvents},
		{`[{},{},{}]`, 0, []string{`{}`, `{}`, `{}`}, nil},
		{`{"a":1}`, 10, nil, ErrNotArray},
		{`"[]"`, 10, nil, ErrNotArray},
		{`[{},`, 10, nil, ErrBadBatchJSON},
		{``, 10, nil, ErrBadBatchJSON},
		{`[{}] x`, 10, nil, ErrBadBatchJSON},
	}
	for _, tt := range tests {
		got, err := SplitBatch([]byte(tt.in), tt.max)
		if !errorIs(err, tt.err) {
			t.Errorf("SplitBatch(%s) error %v, want %v", tt.in, err, tt.err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("SplitBatch(%s) = %q, want %q", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if string(got[i]) != tt.want[i] {
				t.Errorf("SplitBatch(%s)[%d] = %s, want %s", tt.in, i, got[i], tt.want[i])
			}
		}
	}
}

// BenchmarkDecodeValidate decodes and validates a realistic ~250-byte event.
func BenchmarkDecodeValidate(b *testing.B) {
	c := testCatalog(b)
	raw := []byte(goodEvent)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		e, rej := DecodeEvent(raw)
		if rej != nil {
			b.Fatal(rej)
		}
		if rej := c.Validate(&e, testNow); rej != nil {
			b.Fatal(rej)
		}
	}
}

// TestInvalidTextIsRejectedNotReplaced: invalid UTF-8 and lone surrogate escapes would decode as U+FFFD and
// make distinct ids one key, so they are rejected; a surrogate pair and plain non-ASCII text are not. Single
// events and batch elements are decoded alike.
func TestInvalidTextIsRejectedNotReplaced(t *testing.T) {
	event := func(field, value string) string {
		e := map[string]string{"id": `"e-1"`, "source": `"/s"`, "subject": `"AS-1234-5678-9012"`, "user": `"u"`}
		e[field] = `"` + value + `"`
		return `{"specversion":"1.0","type":"t","id":` + e["id"] + `,"source":` + e["source"] + `,"subject":` + e["subject"] +
			`,"time":"2026-05-20T10:00:00Z","data":{"product":"P","item":"I","quantity":1,"attributes":{"user":` + e["user"] + `}}}`
	}
	for _, tt := range []struct {
		field, value string
		want         Reason
		wantField    string
	}{
		{"id", `\ud800`, ReasonBadJSON, "id"},
		{"id", `a\udc00b`, ReasonBadJSON, "id"},
		{"id", `\ud800\u0041`, ReasonBadJSON, "id"},
		{"source", "\xff", ReasonBadJSON, "source"},
		{"subject", `AS\ud83d`, ReasonBadJSON, "subject"},
		{"user", "\xc3", ReasonBadAttribute, "data.attributes.user"},
		{"id", `\ud83d\ude00`, "", ""},
		{"id", `\u00e9é\n`, "", ""},
	} {
		raw := event(tt.field, tt.value)
		_, rej := DecodeEvent([]byte(raw))
		var batchRej *Rejection
		if err := DecodeBatchString("["+raw+"]", 0, func(_ int, _ Event, r *Rejection) { batchRej = r }); err != nil {
			t.Fatalf("%s %q: batch: %v", tt.field, tt.value, err)
		}
		for _, r := range []*Rejection{rej, batchRej} {
			switch {
			case tt.want == "" && r != nil:
				t.Errorf("%s %q: rejected %v", tt.field, tt.value, r)
			case tt.want != "" && (r == nil || r.Reason != tt.want || r.Field != tt.wantField):
				t.Errorf("%s %q: %v, want %s on %s", tt.field, tt.value, r, tt.want, tt.wantField)
			}
		}
	}
}

// TestAttributeNamesMustBeValidText: an attribute name holding invalid UTF-8 or a lone surrogate escape would
// be read as U+FFFD, so two distinct names (and the distinct users a unique_count counts) would become one:
// the event is rejected as bad_attribute, in single events and batches alike. Valid escapes are kept.
func TestAttributeNamesMustBeValidText(t *testing.T) {
	event := func(name string) string {
		return strings.Replace(goodEvent, `"attributes":{"region":"eu"}`, `"attributes":{"`+name+`":"eu"}`, 1)
	}
	for _, tt := range []struct {
		name string
		want Reason
	}{
		{"reg\xffion", ReasonBadAttribute},
		{"reg\xc3", ReasonBadAttribute},
		{`reg\ud800ion`, ReasonBadAttribute},
		{`\udc00`, ReasonBadAttribute},
		{`r\u00e9gion`, ""},
		{"région", ""},
	} {
		raw := event(tt.name)
		e, rej := DecodeEvent([]byte(raw))
		var batchRej *Rejection
		if err := DecodeBatchString("["+raw+"]", 0, func(_ int, _ Event, r *Rejection) { batchRej = r }); err != nil {
			t.Fatalf("%q: batch: %v", tt.name, err)
		}
		for _, r := range []*Rejection{rej, batchRej} {
			switch {
			case tt.want == "" && r != nil:
				t.Errorf("%q: rejected %v", tt.name, r)
			case tt.want != "" && (r == nil || r.Reason != tt.want || r.Field != "data.attributes"):
				t.Errorf("%q: %v, want %s on data.attributes", tt.name, r, tt.want)
			}
		}
		if tt.want == "" && e.Data.Attributes["région"] != "eu" {
			t.Errorf("%q: attributes %v, want région=eu", tt.name, e.Data.Attributes)
		}
	}
}

// TestControlCharacterAtEveryPosition: the eight-bytes-at-a-time search finds a control character at any
// offset of strings of any length, and nothing in printable or non-ASCII text around it.
func TestControlCharacterAtEveryPosition(t *testing.T) {
	at := func(n, i int, c string) string {
		return strings.Repeat("a", i) + c + strings.Repeat("a", n-i-1)
	}
	for n := 1; n < 20; n++ {
		for i := range n {
			for _, c := range []string{"\x00", "\t", "\x1f", "\x7f", "\u0080", "\u009f"} {
				if s := at(n, i, c); controlCharacter(s) != i {
					t.Fatalf("%q: %d, want %d", s, controlCharacter(s), i)
				}
			}
			for _, c := range []string{" ", "~", "\u00a0", "é", "😀"} {
				if s := at(n, i, c); controlCharacter(s) != -1 {
					t.Fatalf("%q: %d, want -1", s, controlCharacter(s))
				}
			}
		}
	}
}
