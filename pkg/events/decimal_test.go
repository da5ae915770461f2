package events

import (
	"encoding/json"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in, want string
		scale    int
	}{
		{"0", "0", 0},
		{"-0", "0", 0},
		{"0.000", "0", 0},
		{"12", "12", 0},
		{"1.50", "1.5", 1},
		{"-1.5", "-1.5", 1},
		{"+3", "3", 0},
		{"1e3", "1000", 0},
		{"1E-3", "0.001", 3},
		{"12.5e1", "125", 0},
		{".5", "0.5", 1},
		{"5.", "5", 0},
		{"0.00000001", "0.00000001", 8},
		{"123456789012345678901234567890.12345678", "123456789012345678901234567890.12345678", 8},
		{"1000000000000000000000000000000000000000", "1000000000000000000000000000000000000000", 0},
	}
	for _, tt := range tests {
		d, err := ParseDecimal(tt.in)
		if err != nil {
			t.Errorf("ParseDecimal(%q): %v", tt.in, err)
			continue
		}
		if have := d.String(); have != tt.want {
			t.Errorf("ParseDecimal(%q).String() = %q, want %q", tt.in, have, tt.want)
		}
		if have := d.Scale(); have != tt.scale {
			t.Errorf("ParseDecimal(%q).Scale() = %d, want %d", tt.in, have, tt.scale)
		}
	}
}

func TestParseDecimalRejects(t *testing.T) {
	for _, in := range []string{
		"", " 1", "1 ", "NaN", "nan", "Infinity", "-Infinity", "inf", "sNaN", "0x10", "1,5", "1.2.3",
		"e3", "1e", "1e+", "--1", "+-1", ".", "-", "1_000", "１", "1e1000000",
		"10000000000000000000000000000000000000000", // 41 integer digits
		"1e40", "1e-21", "0.000000000000000000001",
	} {
		if d, err := ParseDecimal(in); err == nil {
			t.Errorf("ParseDecimal(%q) = %s, want an error", in, d)
		}
	}
}

func TestDecimalArithmetic(t *testing.T) {
	tests := []struct {
		a, b, sum, diff string
		cmp             int
	}{
		{"1.25", "0.25", "1.5", "1", 1},
		{"0.1", "0.2", "0.3", "-0.1", -1},
		{"-5", "5", "0", "-10", -1},
		{"1e3", "0.001", "1000.001", "999.999", 1},
		{"99999999999999999999", "1", "100000000000000000000", "99999999999999999998", 1},
		{"2.50", "2.5", "5", "0", 0},
		{"123456789012345678901234567890", "0.00000000000000000001", "123456789012345678901234567890.00000000000000000001", "123456789012345678901234567889.99999999999999999999", 1},
	}
	for _, tt := range tests {
		a, b := MustDecimal(tt.a), MustDecimal(tt.b)
		if have := a.Add(b).String(); have != tt.sum {
			t.Errorf("%s + %s = %s, want %s", tt.a, tt.b, have, tt.sum)
		}
		if have := a.Sub(b).String(); have != tt.diff {
			t.Errorf("%s - %s = %s, want %s", tt.a, tt.b, have, tt.diff)
		}
		if have := a.Cmp(b); have != tt.cmp {
			t.Errorf("Cmp(%s, %s) = %d, want %d", tt.a, tt.b, have, tt.cmp)
		}
		if have := b.Cmp(a); have != -tt.cmp {
			t.Errorf("Cmp(%s, %s) = %d, want %d", tt.b, tt.a, have, -tt.cmp)
		}
	}
}

func TestDecimalOperandsUnchanged(t *testing.T) {
	big := MustDecimal("123456789012345678901234567890123456789")
	cp := big
	sum := cp.Add(MustDecimal("1"))
	_ = sum.Neg()
	if big.String() != "123456789012345678901234567890123456789" || cp.String() != big.String() {
		t.Fatalf("operands changed: %s %s", big, cp)
	}
	if sum.String() != "123456789012345678901234567890123456790" {
		t.Fatalf("sum = %s", sum)
	}
}

func TestDecimalZeroValueAndHelpers(t *testing.T) {
	var z Decimal
	if !z.IsZero() || z.Sign() != 0 || z.String() != "0" || z.Scale() != 0 {
		t.Fatalf("zero value: %q sign %d", z.String(), z.Sign())
	}
	if have := MustDecimal("5").Neg().String(); have != "-5" {
		t.Errorf("Neg = %s", have)
	}
	if have := z.Neg().String(); have != "0" {
		t.Errorf("Neg(0) = %s", have)
	}
	if have := DecimalFromInt(-42).String(); have != "-42" {
		t.Errorf("DecimalFromInt = %s", have)
	}
	a, b := MustDecimal("1.5"), MustDecimal("-2")
	if Max(a, b).String() != "1.5" || Min(a, b).String() != "-2" {
		t.Errorf("Max/Min wrong")
	}
	if !MustDecimal("1.50").Equal(MustDecimal("1.5")) {
		t.Errorf("Equal(1.50, 1.5) = false")
	}
}

func TestStringFixed(t *testing.T) {
	tests := []struct {
		in     string
		places int
		want   string
	}{
		{"12.5", 4, "12.5000"},
		{"12", 2, "12.00"},
		{"12", 0, "12"},
		{"0", 8, "0.00000000"},
		{"-0.5", 1, "-0.5"},
		{"1.23456", 2, "1.23456"}, // never rounds
	}
	for _, tt := range tests {
		if have := MustDecimal(tt.in).StringFixed(tt.places); have != tt.want {
			t.Errorf("StringFixed(%s, %d) = %q, want %q", tt.in, tt.places, have, tt.want)
		}
	}
}

func TestDecimalJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{`1.50`, `"1.5"`},
		{`"1.50"`, `"1.5"`},
		{`1e3`, `"1000"`},
		{`"2E-2"`, `"0.02"`},
		{`-0.0`, `"0"`},
		{`"\u0031\u0032"`, `"12"`},
		{`12345678901234567890.12345678`, `"12345678901234567890.12345678"`},
	}
	for _, tt := range tests {
		var d Decimal
		if err := json.Unmarshal([]byte(tt.in), &d); err != nil {
			t.Errorf("Unmarshal(%s): %v", tt.in, err)
			continue
		}
		b, err := json.Marshal(d)
		if err != nil || string(b) != tt.want {
			t.Errorf("Marshal(Unmarshal(%s)) = %s, %v; want %s", tt.in, b, err, tt.want)
		}
	}
	for _, in := range []string{`"NaN"`, `"Infinity"`, `""`, `"abc"`, `true`, `{}`, `[]`, `" 1"`, `"1e99999999"`} {
		var d Decimal
		if err := json.Unmarshal([]byte(in), &d); err == nil {
			t.Errorf("Unmarshal(%s) = %s, want an error", in, d)
		}
	}
	d := MustDecimal("7")
	if err := json.Unmarshal([]byte(`null`), &d); err != nil || d.String() != "7" {
		t.Errorf("null changed the value: %s %v", d, err)
	}
}

func TestDecimalText(t *testing.T) {
	var d Decimal
	if err := d.UnmarshalText([]byte("0.250")); err != nil {
		t.Fatal(err)
	}
	b, _ := d.MarshalText()
	if string(b) != "0.25" {
		t.Fatalf("MarshalText = %s", b)
	}
	if err := d.UnmarshalText([]byte("x")); err == nil {
		t.Fatal("UnmarshalText(x) succeeded")
	}
}

func TestDecimalAddCmpAllocs(t *testing.T) {
	a, b := MustDecimal("12345.678"), MustDecimal("0.001")
	var acc Decimal
	n := testing.AllocsPerRun(100, func() {
		acc = acc.Add(a)
		acc = acc.Add(b)
		if acc.Cmp(a) < 0 {
			acc = a
		}
	})
	if n != 0 {
		t.Fatalf("Add+Cmp allocate %v times per run, want 0", n)
	}
}

func BenchmarkDecimalAdd(b *testing.B) {
	x, y := MustDecimal("12345.678"), MustDecimal("0.5")
	var acc Decimal
	b.ReportAllocs()
	for b.Loop() {
		acc = acc.Add(x).Add(y)
	}
	_ = acc
}

func BenchmarkDecimalCmp(b *testing.B) {
	x, y := MustDecimal("12345.678"), MustDecimal("12345.6781")
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n += x.Cmp(y)
	}
	_ = n
}

func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"0", "1.5", "-1e3", "NaN", "1e-21", "99999999999999999999.99999999", ".", "1e999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDecimal(s)
		if err != nil {
			return
		}
		back, err := ParseDecimal(d.String())
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", d.String(), s, err)
		}
		if back.Cmp(d) != 0 || back.String() != d.String() {
			t.Fatalf("round trip %q → %q → %q", s, d, back)
		}
		if d.Add(d.Neg()).Sign() != 0 {
			t.Fatalf("%s + -%s != 0", d, d)
		}
	})
}

func TestDecimalCanonicalRepresentation(t *testing.T) {
	sum := MustDecimal("1.25").Add(MustDecimal("0.25"))
	if sum != MustDecimal("1.50") || MustDecimal("1e3") != DecimalFromInt(1000) {
		t.Fatalf("equal numbers with different representations: %#v %#v", sum, MustDecimal("1.50"))
	}
	if MustDecimal("-0.0") != (Decimal{}) || MustDecimal("3").Sub(MustDecimal("3")) != (Decimal{}) {
		t.Fatal("zero is not the zero value")
	}
}
