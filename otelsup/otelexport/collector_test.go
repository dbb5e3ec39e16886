package otelexport

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// received is what a fake collector got, whatever the protocol.
type received struct {
	mu      sync.Mutex
	traces  []*coltracepb.ExportTraceServiceRequest
	metrics []*colmetricpb.ExportMetricsServiceRequest
}

func (r *received) addTraces(req *coltracepb.ExportTraceServiceRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.traces = append(r.traces, req)
}

func (r *received) addMetrics(req *colmetricpb.ExportMetricsServiceRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.metrics = append(r.metrics, req)
}

// spanNames returns the names of the spans received, in order.
func (r *received) spanNames() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, req := range r.traces {
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					out = append(out, s.Name)
				}
			}
		}
	}
	return out
}

// metricNames returns the names of the metrics received.
func (r *received) metricNames() map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]bool{}
	for _, req := range r.metrics {
		for _, rm := range req.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					out[m.Name] = true
				}
			}
		}
	}
	return out
}

// resources returns the resources of the span batches received.
func (r *received) resources() []*resourcepb.Resource {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*resourcepb.Resource
	for _, req := range r.traces {
		for _, rs := range req.ResourceSpans {
			out = append(out, rs.Resource)
		}
	}
	return out
}

type grpcTraces struct {
	coltracepb.UnimplementedTraceServiceServer
	r *received
}

func (g grpcTraces) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	g.r.addTraces(req)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

type grpcMetrics struct {
	colmetricpb.UnimplementedMetricsServiceServer
	r *received
}

func (g grpcMetrics) Export(_ context.Context, req *colmetricpb.ExportMetricsServiceRequest) (*colmetricpb.ExportMetricsServiceResponse, error) {
	g.r.addMetrics(req)
	return &colmetricpb.ExportMetricsServiceResponse{}, nil
}

// startGRPCCollector serves an OTLP gRPC collector on 127.0.0.1 until the
// test ends, and returns its endpoint URL (http: no TLS).
func startGRPCCollector(t *testing.T) (*received, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &received{}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, grpcTraces{r: r})
	colmetricpb.RegisterMetricsServiceServer(srv, grpcMetrics{r: r})
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-served
	})
	return r, "http://" + lis.Addr().String()
}

// startHTTPCollector serves an OTLP/HTTP (binary protobuf) collector on
// 127.0.0.1 until the test ends, and returns its base URL.
func startHTTPCollector(t *testing.T) (*received, string) {
	t.Helper()
	r := &received{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, req *http.Request) {
		var msg coltracepb.ExportTraceServiceRequest
		if decode(w, req, &msg) {
			r.addTraces(&msg)
			reply(w, &coltracepb.ExportTraceServiceResponse{})
		}
	})
	mux.HandleFunc("POST /v1/metrics", func(w http.ResponseWriter, req *http.Request) {
		var msg colmetricpb.ExportMetricsServiceRequest
		if decode(w, req, &msg) {
			r.addMetrics(&msg)
			reply(w, &colmetricpb.ExportMetricsServiceResponse{})
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return r, srv.URL
}

func decode(w http.ResponseWriter, req *http.Request, msg proto.Message) bool {
	b, err := io.ReadAll(req.Body)
	if err == nil {
		err = proto.Unmarshal(b, msg)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}

func reply(w http.ResponseWriter, msg proto.Message) {
	b, _ := proto.Marshal(msg)
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(b)
}

// startHangingEndpoint accepts connections on 127.0.0.1 and never
// answers: an export to it ends only when its context does. Its one
// goroutine starts before the test takes its goroutine baseline, and it
// holds the connections rather than serving each in a goroutine.
func startHangingEndpoint(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	t.Cleanup(func() {
		lis.Close()
		<-done
	})
	return "http://" + lis.Addr().String()
}

// closedEndpoint returns an endpoint URL nothing listens on.
func closedEndpoint(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return "http://" + addr
}

func attr(kvs []*commonpb.KeyValue, key string) string {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv.Value.GetStringValue()
		}
	}
	return ""
}
