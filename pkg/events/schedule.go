package events

import (
	"fmt"
	"strings"
	"time"
)

// Connect's scheduling advice for usage reports (its Usage API guide): products with reservation items are
// reported daily; pay-as-you-go items daily (the most accurate) or monthly, a monthly report being
// uploaded 1–2 days before the end of the month. usagepipe reports each period when it closes (its end
// plus the allowed lateness), so the advice is a property of the catalog's periods.

// ScheduleWarning is one way a product's periods go against Connect's scheduling advice.
type ScheduleWarning struct {
	Product string
	Items   []string // the items concerned (MPNs); empty: every item of the product
	Message string
}

// String is "product <id>: <message>".
func (w ScheduleWarning) String() string {
	if len(w.Items) == 0 {
		return "product " + w.Product + ": " + w.Message
	}
	return "product " + w.Product + " (" + strings.Join(w.Items, ", ") + "): " + w.Message
}

// Bounds of the advice "1–2 days before the end of a month" on when a monthly period is reported.
const (
	monthlyLeadMin = 24 * time.Hour
	monthlyLeadMax = 48 * time.Hour
)

// ScheduleWarnings checks every product of c against Connect's scheduling advice. It is advice, not
// validity: a catalog with warnings still loads and works.
func ScheduleWarnings(c *Catalog) []ScheduleWarning {
	if c == nil {
		return nil
	}
	var out []ScheduleWarning
	for i := range c.Products {
		p := &c.Products[i]
		reservations, others := itemsByType(p)
		if len(reservations) > 0 && !reportsDaily(p.Period) {
			out = append(out, ScheduleWarning{Product: p.ID, Items: reservations, Message: fmt.Sprintf(
				"reservation items are reported per %s period; Connect advises reporting them daily", periodName(p.Period))})
		}
		if len(others) > 0 {
			if msg := payAsYouGoAdvice(p); msg != "" {
				out = append(out, ScheduleWarning{Product: p.ID, Items: others, Message: msg})
			}
		}
	}
	return out
}

// itemsByType splits a product's items into reservation items and the others (pay-as-you-go).
func itemsByType(p *Product) (reservations, others []string) {
	for _, it := range p.Items {
		if it.Type == ItemTypeReservation {
			reservations = append(reservations, it.MPN)
		} else {
			others = append(others, it.MPN)
		}
	}
	return reservations, others
}

// reportsDaily reports whether periods are days: daily, or fixed periods of 24 hours (UTC days).
func reportsDaily(s PeriodSpec) bool {
	return s.Kind == PeriodDaily || s.Kind == PeriodFixed && s.Every == 24*time.Hour
}

// payAsYouGoAdvice says how a product's pay-as-you-go items go against the advice, "" when they do not.
func payAsYouGoAdvice(p *Product) string {
	const advice = "Connect advises reporting pay-as-you-go usage daily, or monthly 1-2 days before the end of the month"
	switch s := p.Period; {
	case reportsDaily(s):
		return ""
	case s.Kind == PeriodHourly || s.Kind == PeriodFixed:
		return fmt.Sprintf("usage is reported per %s period; %s", periodName(s), advice)
	case s.Kind == PeriodMonthly:
		return fmt.Sprintf("calendar-month periods are reported after the month ends (plus %v of allowed lateness); %s "+
			"(monthly_cutoff with days_before_end)", p.AllowedLateness, advice)
	case s.Kind == PeriodMonthlyCutoff && s.DaysBeforeEnd == 0:
		return fmt.Sprintf("periods end on day %d of the month, not near its end; %s", s.CutoffDay, advice)
	}
	lead := time.Duration(p.Period.DaysBeforeEnd)*24*time.Hour - p.AllowedLateness
	if lead < monthlyLeadMin || lead > monthlyLeadMax {
		return fmt.Sprintf("periods are reported %v before the end of the month (days_before_end %d, allowed lateness %v); %s",
			lead, p.Period.DaysBeforeEnd, p.AllowedLateness, advice)
	}
	return ""
}

// periodName describes a period spec in a warning.
func periodName(s PeriodSpec) string {
	switch s.Kind {
	case PeriodFixed:
		return "fixed " + s.Every.String()
	case PeriodMonthlyCutoff:
		return "monthly (cutoff)"
	}
	return string(s.Kind)
}
