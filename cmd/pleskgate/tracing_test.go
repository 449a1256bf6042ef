package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// TestShutdownFlushesTraces: with an OTLP endpoint set and a batch delay
// far beyond the test, the spans of a request reach the collector only
// because stopping the gateway (SIGTERM's path) flushes them.
func TestShutdownFlushesTraces(t *testing.T) {
	var mu sync.Mutex
	var names []string
	otlp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					names = append(names, s.Name)
				}
			}
		}
		mu.Unlock()
	}))
	defer otlp.Close()

	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, env(map[string]string{
			"PLESKGATE_LISTEN": addr, "PLESKGATE_SANDBOX_PASSWORD": "sandbox-pw", "PLESKGATE_LOG_LEVEL": "error",
			"OTEL_EXPORTER_OTLP_ENDPOINT": otlp.URL, "OTEL_BSP_SCHEDULE_DELAY": "600000",
		}), io.Discard)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest("GET", "http://"+addr+"/clients", nil)
		req.SetBasicAuth("admin", "sandbox-pw")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET /clients: %d", resp.StatusCode)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("gateway did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	before := len(names)
	mu.Unlock()
	if before != 0 {
		t.Fatalf("spans exported before shutdown (%v): the batch delay was not applied", names)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var server, attempt bool
	for _, n := range names {
		server = server || n == "GET /clients"
		attempt = attempt || n == "POST customer/get" || n == "POST client/get"
	}
	if !server || !attempt {
		t.Fatalf("after shutdown the collector has %v, want GET /clients and its packet", names)
	}
}
