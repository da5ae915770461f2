package telemetry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
)

// TestOTelErrorsKeepTheirFirstLogger: a second worker's Setup in the same process does not take over the
// global OTel error handler; SetErrorLogger (the process owner) does.
func TestOTelErrorsKeepTheirFirstLogger(t *testing.T) {
	errorLogger.Store(nil)
	t.Cleanup(func() { errorLogger.Store(nil) })
	var first, second, owner bytes.Buffer
	for _, w := range []struct {
		service string
		out     io.Writer
	}{{"ingest", &first}, {"submitter", &second}} {
		tel, err := Setup(context.Background(), Options{Service: w.service, LogOutput: w.out, Getenv: func(string) string { return "" }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = tel.Shutdown() })
	}
	otel.Handle(errors.New("export failed"))
	if !strings.Contains(first.String(), `"service":"ingest"`) || !strings.Contains(first.String(), "export failed") || second.Len() > 0 {
		t.Errorf("first worker's log %q, second's %q", first.String(), second.String())
	}
	SetErrorLogger(NewLogger(&owner, "dev", nil))
	otel.Handle(errors.New("exporter down"))
	if !strings.Contains(owner.String(), `"service":"dev"`) || strings.Contains(first.String(), "exporter down") {
		t.Errorf("owner's log %q, first worker's %q", owner.String(), first.String())
	}
}
