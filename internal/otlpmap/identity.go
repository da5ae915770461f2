package otlpmap

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"
	"strings"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
)

// identity is the canonical encoding of what identifies a record or a point, built field by field and
// hashed by sum. Every field is length-prefixed or tagged, so two different identities never encode alike;
// attributes are written in key order. The encoding must never change: ids made from it are compared with
// ids stored by earlier versions (the de-duplication horizon spans upgrades).
type identity struct{ b []byte }

// Tags of the encoded values.
const (
	tagAbsent byte = iota
	tagString
	tagBool
	tagInt
	tagDouble
	tagArray
	tagKVList
	tagBytes
	tagOther
)

func (id *identity) str(s string) {
	id.b = binary.AppendUvarint(id.b, uint64(len(s)))
	id.b = append(id.b, s...)
}

func (id *identity) bytes(p []byte) {
	id.b = binary.AppendUvarint(id.b, uint64(len(p)))
	id.b = append(id.b, p...)
}

func (id *identity) u64(v uint64) { id.b = binary.BigEndian.AppendUint64(id.b, v) }

// attrs writes kvs sorted by key (a key given twice keeps both, in their order).
func (id *identity) attrs(kvs []*commonpb.KeyValue) {
	sorted := slices.Clone(kvs)
	slices.SortStableFunc(sorted, func(a, b *commonpb.KeyValue) int { return strings.Compare(a.GetKey(), b.GetKey()) })
	id.b = binary.AppendUvarint(id.b, uint64(len(sorted)))
	for _, kv := range sorted {
		id.str(kv.GetKey())
		id.value(kv.GetValue())
	}
}

func (id *identity) value(v *commonpb.AnyValue) {
	switch x := v.GetValue().(type) {
	case nil:
		id.b = append(id.b, tagAbsent)
	case *commonpb.AnyValue_StringValue:
		id.b = append(id.b, tagString)
		id.str(x.StringValue)
	case *commonpb.AnyValue_BoolValue:
		id.b = append(id.b, tagBool)
		id.b = binary.AppendUvarint(id.b, boolBit(x.BoolValue))
	case *commonpb.AnyValue_IntValue:
		id.b = append(id.b, tagInt)
		id.u64(uint64(x.IntValue))
	case *commonpb.AnyValue_DoubleValue:
		id.b = append(id.b, tagDouble)
		id.u64(math.Float64bits(x.DoubleValue))
	case *commonpb.AnyValue_ArrayValue:
		id.b = append(id.b, tagArray)
		id.b = binary.AppendUvarint(id.b, uint64(len(x.ArrayValue.GetValues())))
		for _, e := range x.ArrayValue.GetValues() {
			id.value(e)
		}
	case *commonpb.AnyValue_KvlistValue:
		id.b = append(id.b, tagKVList)
		id.attrs(x.KvlistValue.GetValues())
	case *commonpb.AnyValue_BytesValue:
		id.b = append(id.b, tagBytes)
		id.bytes(x.BytesValue)
	default:
		id.b = append(id.b, tagOther)
	}
}

func boolBit(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// scope writes an instrumentation scope: name, version and attributes.
func (id *identity) scope(s *commonpb.InstrumentationScope) {
	id.str(s.GetName())
	id.str(s.GetVersion())
	id.attrs(s.GetAttributes())
}

// sum is prefix and the first 128 bits of the SHA-256 of the identity, in hex.
func (id *identity) sum(prefix string) string {
	h := sha256.Sum256(id.b)
	return prefix + hex.EncodeToString(h[:16])
}
