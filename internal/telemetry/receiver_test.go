package telemetry_test

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

// grpcReceiver is a real OTLP/gRPC trace receiver: it records the spans' names and their resources'
// attributes (string values), per export request.
type grpcReceiver struct {
	coltrace.UnimplementedTraceServiceServer
	mu        sync.Mutex
	spans     []string
	resources []map[string]string
}

func (r *grpcReceiver) Export(_ context.Context, req *coltrace.ExportTraceServiceRequest) (*coltrace.ExportTraceServiceResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		attrs := map[string]string{}
		for _, kv := range rs.GetResource().GetAttributes() {
			attrs[kv.GetKey()] = kv.GetValue().GetStringValue()
		}
		r.resources = append(r.resources, attrs)
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				r.spans = append(r.spans, s.GetName())
			}
		}
	}
	return &coltrace.ExportTraceServiceResponse{}, nil
}

// startGRPCReceiver serves a receiver on ln until the test ends.
func startGRPCReceiver(t *testing.T, ln net.Listener) *grpcReceiver {
	t.Helper()
	srv, rec := grpc.NewServer(), &grpcReceiver{}
	coltrace.RegisterTraceServiceServer(srv, rec)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return rec
}

func (r *grpcReceiver) received() ([]string, []map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.spans...), append([]map[string]string(nil), r.resources...)
}

// httpReceiver records the requests an OTLP/HTTP exporter makes.
type httpReceiver struct {
	mu    sync.Mutex
	paths []string
}

func (r *httpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.paths = append(r.paths, req.Method+" "+req.URL.Path)
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
}

func (r *httpReceiver) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.paths...)
}
