package upstream

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func tracedClientFor(t *testing.T, cfg Config) (*Client, *tracetest.SpanRecorder, *sdktrace.TracerProvider) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	cfg.TracerProvider = tp
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	return New(cfg), rec, tp
}

func eventsOf(spans []sdktrace.ReadOnlySpan, name string) []string {
	var out []string
	for _, s := range spans {
		if s.Name() == name {
			for _, e := range s.Events() {
				out = append(out, e.Name)
			}
		}
	}
	return out
}

// TestTracingEvents: a retried read is a "retry" event on the caller's
// span and one client span per attempt; the breaker opening is an event;
// a shed request is a "shed" event on its admission wait.
func TestTracingEvents(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Header.Get("Traceparent") == "" {
			t.Error("packet without traceparent")
		}
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		_, _ = io.WriteString(w, "<packet/>")
	}))
	t.Cleanup(srv.Close)

	u, rec, tp := tracedClientFor(t, Config{BaseURL: srv.URL, RetryInitial: time.Millisecond, Concurrency: 1, Queue: 0})
	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	if _, err := u.send(ctx, Credentials{Login: "a", Password: "b"}, []byte("<packet/>"), true); err != nil {
		t.Fatal(err)
	}
	// Shed: the one slot is held, no queue.
	release, err := u.admit.acquire(context.Background(), "other")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.send(ctx, Credentials{Login: "a", Password: "b"}, []byte("<packet2/>"), true); !errors.Is(err, ErrBusy) {
		t.Fatalf("want busy, got %v", err)
	}
	release()
	parent.End()

	spans := rec.Ended()
	if ev := eventsOf(spans, "request"); len(ev) != 1 || ev[0] != "retry" {
		t.Errorf("request events %v, want one retry", ev)
	}
	var attempts int
	for _, s := range spans {
		if s.Name() == "POST" && s.Parent().SpanID() == parent.SpanContext().SpanID() {
			attempts++
		}
	}
	if attempts != 2 {
		t.Errorf("%d attempt spans under the request, want 2", attempts)
	}
	if ev := eventsOf(spans, "admission wait"); len(ev) != 1 || ev[0] != "shed" {
		t.Errorf("admission wait events %v, want one shed", ev)
	}

	// Breaker: one failing call trips it.
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	t.Cleanup(down.Close)
	b, brec, btp := tracedClientFor(t, Config{BaseURL: down.URL, RetryMax: -1, BreakerMinCalls: 1})
	ctx, parent = btp.Tracer("test").Start(context.Background(), "request")
	_, _ = b.send(ctx, Credentials{}, []byte("<packet/>"), false)
	_, _ = b.send(ctx, Credentials{}, []byte("<packet/>"), false)
	parent.End()
	ev := eventsOf(brec.Ended(), "request")
	if len(ev) != 2 || ev[0] != "circuit breaker state change" || ev[1] != "circuit breaker rejected the packet" {
		t.Errorf("breaker events %v", ev)
	}
}
