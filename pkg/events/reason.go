package events

import "fmt"

// Reason is a rejection reason code. Codes are stable: they appear in ingest
// responses, DLQ subjects and metrics. docs/events.md describes each one.
type Reason string

// Reason codes.
const (
	ReasonBadJSON        Reason = "bad_json"
	ReasonMissingField   Reason = "missing_field"
	ReasonBadSpecVersion Reason = "bad_specversion"
	ReasonBadTime        Reason = "bad_time"
	ReasonTooOld         Reason = "too_old"
	ReasonInFuture       Reason = "in_future"
	ReasonBadQuantity    Reason = "bad_quantity"
	ReasonBadAmount      Reason = "bad_amount"
	ReasonBadTier        Reason = "bad_tier"
	ReasonBadAttribute   Reason = "bad_attribute"
	ReasonBadSubject     Reason = "bad_subject"
	// ReasonControlCharacter: id, source or subject holds a control character (such as NUL or a newline).
	ReasonControlCharacter   Reason = "control_character"
	ReasonUnknownProduct     Reason = "unknown_product"
	ReasonUnknownItem        Reason = "unknown_item"
	ReasonUnknownContract    Reason = "unknown_contract"
	ReasonUnknownMarketplace Reason = "unknown_marketplace"
	ReasonMissingAttribute   Reason = "missing_attribute"
	ReasonTooLarge           Reason = "too_large"
	ReasonTooLate            Reason = "too_late"
	// ReasonConflict: ingest found two events with one (source, id) and other content in one request.
	ReasonConflict Reason = "conflict"
	// ReasonForbiddenSource: ingest refused an event whose source the request's API key may not write.
	ReasonForbiddenSource Reason = "forbidden_source"
	// ReasonBadCumulative: a cumulative quantity (data.cumulative, OTLP cumulative sums) that cannot be turned
	// into deltas exactly: no series or start, a start not before the time, an amount, an item that does not
	// sum, a negative running total.
	ReasonBadCumulative Reason = "bad_cumulative"
	// ReasonUnmapped: an OTLP log record or data point that no OTLP rule of the catalog maps to usage.
	ReasonUnmapped Reason = "unmapped"
	// ReasonAmbiguousMapping: an OTLP log record or data point that several OTLP rules match.
	ReasonAmbiguousMapping Reason = "ambiguous_mapping"
	// ReasonUnsupportedMetric: an OTLP metric whose points the matching rule does not say how to bill (a
	// gauge, a histogram, a summary, a non-monotonic cumulative sum).
	ReasonUnsupportedMetric Reason = "unsupported_metric"
	// ReasonCumulativeDecrease: the aggregator found a cumulative series' running total lower than the
	// series' previous one without a new start time (a reset the producer did not declare); dead letters only.
	ReasonCumulativeDecrease Reason = "cumulative_decrease"
	// ReasonCumulativeBaseline: the aggregator saw the first point of a cumulative series that started longer
	// ago than the product's max event age, whose total it cannot attribute exactly; it only sets the series'
	// baseline. Dead letters only.
	ReasonCumulativeBaseline Reason = "cumulative_baseline"
)

// Reasons lists every reason code, for metrics pre-registration and docs tests.
var Reasons = []Reason{
	ReasonBadJSON, ReasonMissingField, ReasonBadSpecVersion, ReasonBadTime,
	ReasonTooOld, ReasonInFuture, ReasonBadQuantity, ReasonBadAmount,
	ReasonBadTier, ReasonBadAttribute, ReasonBadSubject, ReasonUnknownProduct, ReasonUnknownItem,
	ReasonUnknownContract, ReasonUnknownMarketplace, ReasonMissingAttribute,
	ReasonTooLarge, ReasonTooLate, ReasonConflict, ReasonControlCharacter, ReasonForbiddenSource,
	ReasonBadCumulative, ReasonUnmapped, ReasonAmbiguousMapping, ReasonUnsupportedMetric,
	ReasonCumulativeDecrease, ReasonCumulativeBaseline,
}

// Rejection says why an event was refused: a reason code, the offending field
// as a dotted path ("data.quantity"), and a human message.
type Rejection struct {
	Reason  Reason `json:"reason"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// Error implements error: "bad_quantity: data.quantity: …".
func (r *Rejection) Error() string {
	if r.Field == "" {
		return fmt.Sprintf("%s: %s", r.Reason, r.Message)
	}
	return fmt.Sprintf("%s: %s: %s", r.Reason, r.Field, r.Message)
}

func reject(reason Reason, field, format string, args ...any) *Rejection {
	return &Rejection{Reason: reason, Field: field, Message: fmt.Sprintf(format, args...)}
}

// curable lists the reasons of rejections that depend on the catalog or the clock rather than on the event's
// form: a later fix (a product, item or contract added, a precision or max event age changed) or time passing
// (an event from a fast clock) can make the same event valid.
var curable = map[Reason]bool{
	ReasonUnknownProduct: true, ReasonUnknownItem: true, ReasonUnknownContract: true, ReasonUnknownMarketplace: true,
	ReasonBadSubject: true, ReasonBadQuantity: true, ReasonBadAmount: true, ReasonBadTier: true,
	ReasonMissingAttribute: true, ReasonTooOld: true, ReasonInFuture: true,
}

// Curable reports whether a rejection for r by Catalog.Validate (or ClosedBeforeStart) may be cured by a
// change of the catalog or by time passing. Ingest keeps such rejections as dead letters when asked
// (--keep-rejected); a rejection of the event's form (DecodeEvent's, or the envelope's) is never curable,
// whatever its reason.
func (r Reason) Curable() bool { return curable[r] }

// Reasons of dead letters that are not reasons to reject an event (they are not in Reasons, which ingest
// answers with).
const (
	// ReasonUnknownKind: the aggregator found a message of an unknown Usagepipe-Kind in USAGE_EVENTS.
	ReasonUnknownKind Reason = "unknown_kind"
	// ReasonConnectInvalid: Connect's processing marked a record of a usage file invalid (its error text is
	// the dead letter's message).
	ReasonConnectInvalid Reason = "connect_invalid"
	// ReasonUnwritable: a record no usage workbook can hold (e.g. more decimals than its item's precision).
	ReasonUnwritable Reason = "unwritable"
)

// stageReasons lists, by stage, the reasons its dead letters have (DeadLetter.Stage and .Reason).
var stageReasons = map[string][]Reason{
	StageAggregator: {ReasonUnknownProduct, ReasonUnknownItem, ReasonUnknownContract, ReasonBadQuantity, ReasonBadAmount,
		ReasonBadTier, ReasonMissingAttribute, ReasonTooLate, ReasonTooOld, ReasonBadJSON, ReasonUnknownKind},
	StageSubmitter: {ReasonConnectInvalid, ReasonUnwritable},
}

// StageReasons lists the reasons of a stage's dead letters, for metrics that show every series from zero:
// ingest's are the curable reasons (the rejections --keep-rejected keeps), in the order of Reasons. A stage
// may write others too (the aggregator: cumulative_decrease, cumulative_baseline); they appear when written.
func StageReasons(stage string) []Reason {
	if stage != StageIngest {
		return stageReasons[stage]
	}
	var out []Reason
	for _, r := range Reasons {
		if r.Curable() {
			out = append(out, r)
		}
	}
	return out
}
