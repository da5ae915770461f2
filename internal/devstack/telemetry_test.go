package devstack_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/usagepipe/usagepipe/internal/devstack"
)

// TestWorkersKeepTheirNamesAndOTelErrorsAreTheStacks: an OTEL_SERVICE_NAME in the shared environment does
// not rename the workers, and an OTel error is logged as the stack's, not as the last worker set up.
func TestWorkersKeepTheirNamesAndOTelErrorsAreTheStacks(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	o := testOptions(t, t.TempDir())
	o.SpanExporter = exp
	o.Getenv = func(k string) string {
		if k == "OTEL_SERVICE_NAME" {
			return "everyone"
		}
		return ""
	}
	st := start(t, o)
	post(t, st, st.Catalogs().ExampleEvent("named", time.Now()), nil)
	for _, service := range []string{devstack.ServiceIngest, devstack.ServiceAggregator} { // both at work
		waitFor(t, "a span of "+service, 60*time.Second, func() bool {
			return slices.ContainsFunc(exp.GetSpans(), func(s tracetest.SpanStub) bool { return serviceOf(s) == service })
		})
	}
	if i := slices.IndexFunc(exp.GetSpans(), func(s tracetest.SpanStub) bool { return serviceOf(s) == "everyone" }); i >= 0 {
		t.Errorf("a worker took OTEL_SERVICE_NAME from the shared environment: span %q", exp.GetSpans()[i].Name)
	}
	otel.Handle(errors.New("probe: exporter unreachable"))
	for _, line := range strings.Split(o.LogOutput.(*syncBuffer).String(), "\n") {
		if strings.Contains(line, "probe: exporter unreachable") {
			if !strings.Contains(line, `"service":"`+devstack.ServiceDev+`"`) {
				t.Errorf("the OTel error is logged as another service's: %s", line)
			}
			return
		}
	}
	t.Error("the OTel error was not logged")
}
