package telemetry

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/usagepipe/usagepipe/internal/buildinfo"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
)

// newMetrics returns a registry with the Go and process collectors and the build of the service, and an OTel
// meter provider reporting into it.
func newMetrics(res *resource.Resource, service string) (*prometheus.Registry, *sdkmetric.MeterProvider, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfoGauge(buildinfo.Read(), service))
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, nil, err
	}
	return reg, sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithResource(res)), nil
}

// MetricsHandler serves the worker's registry in the Prometheus exposition format (mount it at /metrics).
func (t *Telemetry) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(t.Registry, promhttp.HandlerOpts{Registry: t.Registry})
}

// buildInfoGauge is usagepipe_build_info: 1, labelled with the running build (internal/buildinfo) and the
// service, so that a dashboard shows which version runs where.
func buildInfoGauge(b buildinfo.Info, service string) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "usagepipe_build_info",
		Help: "The running build: module version, commit (revision), the commit's time (build_time), modified checkout, Go version.",
		ConstLabels: prometheus.Labels{"service": service, "version": b.Version, "revision": b.Revision, "build_time": b.Time,
			"modified": strconv.FormatBool(b.Modified), "goversion": b.GoVersion},
	}, func() float64 { return 1 })
}
