package usagefile

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/usagepipe/usagepipe/pkg/events"
	"github.com/xuri/excelize/v2"
)

// maxNumberLen bounds the text of a number cell; events.ParseDecimal bounds
// its digits.
const maxNumberLen = 64

var errNotNumber = errors.New("not a decimal number")

// parseDecimal reads a number cell exactly: the raw text of a numeric cell
// ("4", "4.0000", "1.5E-3"), never a float64, or a number typed as text.
func parseDecimal(s string) (events.Decimal, error) {
	if s == "" || len(s) > maxNumberLen || strings.Trim(s, "0123456789+-.eE") != "" {
		return events.Decimal{}, errNotNumber
	}
	return events.ParseDecimal(s)
}

// parseTier reads a tier: a non-negative integer, possibly written "2.0".
func parseTier(s string) (int, error) {
	d, err := parseDecimal(s)
	if err != nil {
		return 0, err
	}
	if d.Scale() > 0 {
		return 0, errNotNumber
	}
	tier, err := strconv.ParseInt(d.String(), 10, 32)
	if err != nil || tier < 0 {
		return 0, errNotNumber
	}
	return int(tier), nil
}

// maxSerial is the Excel serial date of 9999-12-31.
const maxSerial = 2958465

// parseTime reads a time in TimeLayout, UTC. A number is taken as an Excel
// serial date, as a date-formatted cell holds (Excel turns a typed
// "2026-11-01 00:00:00" into one), rounded to the second.
func parseTime(s string, date1904 bool) (time.Time, error) {
	if t, err := time.Parse(TimeLayout, s); err == nil {
		return t, nil
	}
	serial, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(serial) || serial <= 0 || serial > maxSerial {
		return time.Time{}, errors.New("want " + TimeLayout)
	}
	t, err := excelize.ExcelDateToTime(serial, date1904)
	if err != nil {
		return time.Time{}, err
	}
	return t.Round(time.Second).UTC(), nil
}
