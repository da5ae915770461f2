package otlpmap

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"

	"github.com/usagepipe/usagepipe/pkg/events"
)

// maxExactDigits is the number of significant decimal digits every double round-trips: a decimal of at most
// 15 significant digits converted to a double is recovered exactly by the shortest representation of it.
const maxExactDigits = 15

// lookup returns the value of key among attrs, or nil.
func lookup(attrs []*commonpb.KeyValue, key string) *commonpb.AnyValue {
	for _, kv := range attrs {
		if kv.GetKey() == key {
			return kv.GetValue()
		}
	}
	return nil
}

// text is v as text: a string itself, an int or a double in decimal, a bool as true or false; ok is false
// for bytes, arrays, key-value lists and an absent value.
func text(v *commonpb.AnyValue) (string, bool) {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue, true
	case *commonpb.AnyValue_IntValue:
		return strconv.FormatInt(x.IntValue, 10), true
	case *commonpb.AnyValue_DoubleValue:
		return strconv.FormatFloat(x.DoubleValue, 'g', -1, 64), true
	case *commonpb.AnyValue_BoolValue:
		return strconv.FormatBool(x.BoolValue), true
	}
	return "", false
}

// decimalOf is v as an exact decimal: an int, a string holding a decimal, or a double that is exactly a
// decimal of at most precision decimals (exactDouble).
func decimalOf(v *commonpb.AnyValue, precision int) (events.Decimal, error) {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_IntValue:
		return events.DecimalFromInt(x.IntValue), nil
	case *commonpb.AnyValue_StringValue:
		return events.ParseDecimal(x.StringValue)
	case *commonpb.AnyValue_DoubleValue:
		return exactDouble(x.DoubleValue, precision)
	case nil:
		return events.Decimal{}, fmt.Errorf("no value")
	}
	return events.Decimal{}, fmt.Errorf("not a number or a string")
}

// exactDouble is f as the decimal it stands for, when that is certain: f is finite, its shortest decimal
// representation has at most maxExactDigits significant digits (so it is the decimal the producer had, and
// not a neighbour: 0.1 is 0.1, 0.1+0.2 = 0.30000000000000004 is refused) and at most precision decimals.
func exactDouble(f float64, precision int) (events.Decimal, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return events.Decimal{}, fmt.Errorf("double %v is not a number", f)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64)
	mantissa, _, _ := strings.Cut(strings.TrimPrefix(s, "-"), "e")
	if digits := len(strings.Replace(mantissa, ".", "", 1)); digits > maxExactDigits {
		return events.Decimal{}, fmt.Errorf("double %s is not exactly a decimal of at most %d digits; send an int or a string",
			strconv.FormatFloat(f, 'g', -1, 64), maxExactDigits)
	}
	d, err := events.ParseDecimal(s)
	if err != nil {
		return events.Decimal{}, err
	}
	if d.Scale() > precision {
		return events.Decimal{}, fmt.Errorf("double %s has %d decimals, more than the %d allowed", d, d.Scale(), precision)
	}
	return d, nil
}

// decimalOfUint is n as a decimal.
func decimalOfUint(n uint64) events.Decimal {
	return events.MustDecimal(strconv.FormatUint(n, 10))
}
