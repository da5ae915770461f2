package deploy

import (
	"slices"
	"strings"
	"testing"
)

// collectorConfig is the part of otel-collector.yaml the checks read.
type collectorConfig struct {
	Receivers struct {
		OTLP struct {
			Protocols map[string]struct {
				Endpoint string `yaml:"endpoint"`
			} `yaml:"protocols"`
		} `yaml:"otlp"`
	} `yaml:"receivers"`
	Exporters map[string]struct {
		Endpoint string `yaml:"endpoint"`
	} `yaml:"exporters"`
	Service struct {
		Pipelines map[string]struct {
			Receivers []string `yaml:"receivers"`
			Exporters []string `yaml:"exporters"`
		} `yaml:"pipelines"`
	} `yaml:"service"`
}

// otlpPort is the OTLP receiver protocol the workers' OTEL_EXPORTER_OTLP_PROTOCOL names.
var otlpProtocol = map[string]string{"grpc": "grpc", "http/protobuf": "http", "": "http"}

func TestWorkersExportTracesThroughTheCollectorToJaeger(t *testing.T) {
	c := loadCompose(t)
	var col collectorConfig
	loadYAML(t, "otel-collector.yaml", &col)
	collectors := byRole(c, roleCollector)
	for _, r := range workers {
		for _, name := range byRole(c, r) {
			s := c.Services[name]
			endpoint, protocol := s.env("OTEL_EXPORTER_OTLP_ENDPOINT"), s.env("OTEL_EXPORTER_OTLP_PROTOCOL")
			receiver := col.Receivers.OTLP.Protocols[otlpProtocol[protocol]]
			if !slices.Contains(collectors, host(endpoint)) || receiver.Endpoint == "" || port(endpoint) != port(receiver.Endpoint) {
				t.Errorf("%s: exports OTLP (%q) to %q, but the collector receives %s on %q", name, protocol, endpoint,
					otlpProtocol[protocol], receiver.Endpoint)
			}
		}
	}
	traces, ok := col.Service.Pipelines["traces"]
	if !ok || !slices.Contains(traces.Receivers, "otlp") {
		t.Fatalf("otel-collector.yaml: no traces pipeline from the otlp receiver: %+v", col.Service.Pipelines)
	}
	jaeger := byRole(c, roleJaeger)
	toJaeger := slices.ContainsFunc(traces.Exporters, func(e string) bool {
		ex, ok := col.Exporters[e]
		return ok && strings.HasPrefix(e, "otlp") && slices.Contains(jaeger, host(ex.Endpoint)) && port(ex.Endpoint) == "4317"
	})
	if !toJaeger {
		t.Errorf("otel-collector.yaml: the traces pipeline exports %v, none of them OTLP to Jaeger's 4317 (%v)", traces.Exporters, jaeger)
	}
}
