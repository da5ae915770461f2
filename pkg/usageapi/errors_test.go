package usageapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAPIErrorDecoding(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		wantCode   string
		wantErrors []string
		is         error
	}{
		{"json", 400, `{"error_code":"VAL_001","errors":["name: too long","period: bad"]}`, "VAL_001", []string{"name: too long", "period: bad"}, ErrBadRequest},
		{"json with params and null code", 500, `{"params":null,"errors":["'NoneType' object does not support item assignment"],"error_code":null}`, "", []string{"'NoneType' object does not support item assignment"}, nil},
		{"auth", 401, `{"error_code":"AUTH_001","errors":["API request is unauthorized."]}`, "AUTH_001", []string{"API request is unauthorized."}, ErrUnauthorized},
		{"html", 502, "<html>\n<h1>502 Bad Gateway</h1>\n</html>", "", []string{"<html> <h1>502 Bad Gateway</h1> </html>"}, nil},
		{"other json", 403, `{"detail":"nope"}`, "", []string{`{"detail":"nope"}`}, ErrForbidden},
		{"empty", 404, "", "", nil, ErrNotFound},
		{"rate limited", 429, "slow down", "", []string{"slow down"}, ErrRateLimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			})
			c, _ := s.client(t, WithRetry(NoRetry))
			_, err := c.GetFile(ctxT(t), "UF-1")
			var e *APIError
			if !errors.As(err, &e) {
				t.Fatalf("err %v is not an *APIError", err)
			}
			if e.Status != tt.status || e.Code != tt.wantCode || fmt.Sprint(e.Errors) != fmt.Sprint(tt.wantErrors) {
				t.Errorf("got %d %q %q, want %d %q %q", e.Status, e.Code, e.Errors, tt.status, tt.wantCode, tt.wantErrors)
			}
			if e.Method != "GET" || e.Path != "/usage/files/UF-1" || !strings.Contains(err.Error(), "GET /usage/files/UF-1: "+fmt.Sprint(tt.status)) {
				t.Errorf("error text %q", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) is false", err, tt.is)
			}
			if StatusOf(err) != tt.status {
				t.Errorf("StatusOf = %d", StatusOf(err))
			}
		})
	}
}

func TestAPIErrorLongBodyIsCut(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		w.WriteHeader(500)
		fmt.Fprint(w, strings.Repeat("é", 2000))
	})
	c, _ := s.client(t, WithRetry(NoRetry))
	_, err := c.GetFile(ctxT(t), "UF-1")
	var e *APIError
	if !errors.As(err, &e) || len(e.Errors) != 1 || len(e.Errors[0]) > maxErrorText+len("…") {
		t.Fatalf("err %v", err)
	}
}

func TestSentinelsDoNotCrossMatch(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", &APIError{Status: 404})
	if !IsNotFound(err) || IsBadRequest(err) || IsUnauthorized(err) || IsForbidden(err) || IsRateLimited(err) {
		t.Error("a 404 must match ErrNotFound only")
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&APIError{Status: 429}, true},
		{&APIError{Status: 500}, true},
		{&APIError{Status: 502}, true},
		{&APIError{Status: 503}, true},
		{&APIError{Status: 400}, false},
		{&APIError{Status: 401}, false},
		{&APIError{Status: 403}, false},
		{&APIError{Status: 404}, false},
		{fmt.Errorf("x: %w", &APIError{Status: 503}), true},
		{&NetworkError{Err: errors.New("connection reset by peer")}, true},
		{fmt.Errorf("x: %w", &NetworkError{Err: errors.New("EOF")}), true},
		{context.Canceled, false},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), false},
		{ErrBadQuery, false},
		{errors.New("decoding answer"), false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := Retryable(tt.err); got != tt.want {
			t.Errorf("Retryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"7", 7 * time.Second},
		{" 0 ", 0},
		{"-3", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
		{"", 0},
		{"99999999999", 24 * time.Hour},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.in, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
