package gateway

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/pleskgate/pleskgate/gateway/store"
	"github.com/pleskgate/pleskgate/gateway/store/storetest"
	"github.com/pleskgate/pleskgate/internal/telemetry"
	"github.com/pleskgate/pleskgate/plesksim"
)

// otlpReceiver is a real OTLP/HTTP endpoint: it decodes each
// ExportTraceServiceRequest (protobuf) and keeps its spans and raw bytes.
type otlpReceiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	spans []*span
	raw   [][]byte
	paths []string
}

type span struct {
	name, traceID, id, parent string
	kind                      tracepb.Span_SpanKind
	start, end                uint64
	attrs                     map[string]string
	events                    []string
	children                  []*span
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	rcv := &otlpReceiver{}
	rcv.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil || r.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rcv.mu.Lock()
		rcv.raw = append(rcv.raw, body)
		rcv.paths = append(rcv.paths, r.URL.Path)
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					sp := &span{name: s.Name, traceID: hex.EncodeToString(s.TraceId), id: hex.EncodeToString(s.SpanId),
						parent: hex.EncodeToString(s.ParentSpanId), kind: s.Kind, start: s.StartTimeUnixNano, end: s.EndTimeUnixNano,
						attrs: map[string]string{}}
					for _, a := range s.Attributes {
						sp.attrs[a.Key] = anyValue(a.Value)
					}
					for _, e := range s.Events {
						sp.events = append(sp.events, e.Name)
					}
					rcv.spans = append(rcv.spans, sp)
				}
			}
		}
		rcv.mu.Unlock()
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(rcv.srv.Close)
	return rcv
}

func anyValue(v interface{ GetStringValue() string }) string {
	type intValue interface{ GetIntValue() int64 }
	type boolValue interface{ GetBoolValue() bool }
	if s := v.GetStringValue(); s != "" {
		return s
	}
	if iv, ok := v.(intValue); ok && iv.GetIntValue() != 0 {
		return fmt.Sprint(iv.GetIntValue())
	}
	if bv, ok := v.(boolValue); ok && bv.GetBoolValue() {
		return "true"
	}
	return fmt.Sprint(v)
}

// tracingHarness is a gateway exporting to rcv through internal/telemetry,
// configured by the OTEL_* variables as cmd/pleskgate does, and a record of
// the headers of every packet sent to the panel.
func tracingHarness(t *testing.T, rcv *otlpReceiver) (*harness, *telemetry.Tracing, *packetHeaders) {
	env := map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.srv.URL,
		"OTEL_SERVICE_NAME":           "pleskgate-test",
		"OTEL_BSP_SCHEDULE_DELAY":     "50",
	}
	tr, err := telemetry.Setup(context.Background(), func(k string) string { return env[k] }, "pleskgate", "test")
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Enabled() {
		t.Fatal("tracing is off with an endpoint set")
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	ph := &packetHeaders{}
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) {
		gc.TracerProvider, gc.Propagator = tr.Provider, tr.Propagator
		gc.Upstream.Transport = ph
		gc.Upstream.Concurrency, gc.Upstream.Queue = 4, 16 // admission on, as cmd/pleskgate has it
	})
	return h, tr, ph
}

// packetHeaders records each packet's headers below otelhttp's transport.
type packetHeaders struct {
	mu  sync.Mutex
	all []http.Header
}

func (p *packetHeaders) RoundTrip(r *http.Request) (*http.Response, error) {
	p.mu.Lock()
	p.all = append(p.all, r.Header.Clone())
	p.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// flush exports every span still queued.
func flush(t *testing.T, tr *telemetry.Tracing) {
	t.Helper()
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// trees links the received spans by parent; it returns the roots of trace id.
func (rcv *otlpReceiver) tree(traceID string) []*span {
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	byID := map[string]*span{}
	var in []*span
	for _, s := range rcv.spans {
		if s.traceID == traceID {
			s.children = nil
			byID[s.id] = s
			in = append(in, s)
		}
	}
	sort.Slice(in, func(i, j int) bool { return in[i].start < in[j].start })
	var roots []*span
	for _, s := range in {
		if p, ok := byID[s.parent]; ok {
			p.children = append(p.children, s)
		} else {
			roots = append(roots, s)
		}
	}
	return roots
}

func render(roots []*span) string {
	var b strings.Builder
	var walk func(s *span, depth int)
	walk = func(s *span, depth int) {
		d := time.Duration(s.end - s.start)
		fmt.Fprintf(&b, "%s%-40s %10s  span=%s parent=%s", strings.Repeat("  ", depth), s.name, d.Round(time.Microsecond), s.id[:8], orNone(s.parent))
		for _, k := range []string{"http.route", "http.response.status_code", "plesk.operation", "plesk.protocol_version", "plesk.errcode", "server.address", "pleskgate.cache.outcome"} {
			if v, ok := s.attrs[k]; ok {
				fmt.Fprintf(&b, " %s=%s", k, v)
			}
		}
		if len(s.events) > 0 {
			fmt.Fprintf(&b, " events=%v", s.events)
		}
		b.WriteByte('\n')
		for _, c := range s.children {
			walk(c, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s[:8]
}

func findSpan(roots []*span, name string) *span {
	for _, r := range roots {
		if r.name == name {
			return r
		}
		if s := findSpan(r.children, name); s != nil {
			return s
		}
	}
	return nil
}

const callerTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
const callerSpanID = "00f067aa0ba902b7"

func TestTracingExportsSpanTree(t *testing.T) {
	rcv := newOTLPReceiver(t)
	h, tr, ph := tracingHarness(t, rcv)

	// POST /clients, continuing the caller's trace.
	caller := h.with("Traceparent", "00-"+callerTraceID+"-"+callerSpanID+"-01")
	h.expect(caller.do("POST", "/clients", newClientBody("traced1")), http.StatusCreated)

	// A descriptor read twice: the second is a cache hit.
	const descTrace = "11111111111111111111111111111111"
	h.with("Traceparent", "00-22222222222222222222222222222222-00f067aa0ba902b7-01").do("GET", "/descriptors/limits", nil)
	hit := h.expect(h.with("Traceparent", "00-"+descTrace+"-00f067aa0ba902b7-01").do("GET", "/descriptors/limits", nil), http.StatusOK)
	if cs := hit.Header.Get("Cache-Status"); !strings.Contains(cs, "hit") {
		t.Fatalf("second read Cache-Status %q, want a hit", cs)
	}
	// A problem carries the trace id.
	nf := h.with("Traceparent", "00-33333333333333333333333333333333-00f067aa0ba902b7-01").do("GET", "/clients/999999", nil)
	if p := nf.problem(t); p.TraceID != "33333333333333333333333333333333" {
		t.Fatalf("problem trace_id %q, want the caller's", p.TraceID)
	}
	flush(t, tr)

	for _, p := range rcv.paths {
		if p != "/v1/traces" {
			t.Fatalf("exported to %s, want /v1/traces", p)
		}
	}

	// POST /clients: server span, child of the caller's span →
	// admission wait, then the attempt(s) to the panel.
	roots := rcv.tree(callerTraceID)
	t.Logf("POST /clients:\n%s", render(roots))
	if len(roots) != 1 {
		t.Fatalf("want one root span in the caller's trace, got %d:\n%s", len(roots), render(roots))
	}
	srv := roots[0]
	if srv.name != "POST /clients" || srv.kind != tracepb.Span_SPAN_KIND_SERVER || srv.parent != callerSpanID {
		t.Fatalf("root %q kind %v parent %s, want server span POST /clients under the caller's span", srv.name, srv.kind, srv.parent)
	}
	for k, want := range map[string]string{"http.request.method": "POST", "http.route": "/clients", "http.response.status_code": "201", "url.path": "/clients", "url.scheme": "http"} {
		if srv.attrs[k] != want {
			t.Errorf("server span %s=%q, want %q", k, srv.attrs[k], want)
		}
	}
	var admission, add *span
	for _, c := range srv.children {
		switch {
		case c.name == "admission wait" && admission == nil:
			admission = c
		case strings.HasSuffix(c.attrs["plesk.operation"], "/add"):
			add = c
		}
	}
	if admission == nil || add == nil {
		t.Fatalf("server span lacks an admission wait and an add attempt:\n%s", render(roots))
	}
	if admission.end > add.start {
		t.Errorf("admission wait ends after the attempt starts")
	}
	if add.kind != tracepb.Span_SPAN_KIND_CLIENT || add.name != "POST "+add.attrs["plesk.operation"] ||
		add.attrs["http.response.status_code"] != "200" || add.attrs["server.address"] != "127.0.0.1" ||
		add.attrs["plesk.protocol_version"] == "" || add.attrs["http.request.method"] != "POST" {
		t.Errorf("attempt span %q kind %v attrs %v", add.name, add.kind, add.attrs)
	}
	// Every packet carried a traceparent; the add's names its attempt span.
	ph.mu.Lock()
	var found bool
	for _, hd := range ph.all {
		tp := hd.Get("Traceparent")
		if tp == "" {
			t.Errorf("a packet went to the panel without traceparent")
		}
		if tp == "00-"+callerTraceID+"-"+add.id+"-01" {
			found = true
		}
	}
	ph.mu.Unlock()
	if !found {
		t.Errorf("no packet carried traceparent of the add attempt %s", add.id)
	}

	// Cached descriptor read: server span → cache lookup (hit), no upstream span.
	roots = rcv.tree(descTrace)
	t.Logf("GET /descriptors/limits (cached):\n%s", render(roots))
	if len(roots) != 1 || roots[0].name != "GET /descriptors/limits" {
		t.Fatalf("want one server span GET /descriptors/limits:\n%s", render(roots))
	}
	if len(roots[0].children) != 1 {
		t.Fatalf("cached read: want only the cache lookup under the server span:\n%s", render(roots))
	}
	lookup := roots[0].children[0]
	if lookup.name != "descriptor cache lookup" || lookup.attrs["pleskgate.cache.outcome"] != "hit" || len(lookup.children) != 0 {
		t.Fatalf("cache lookup span: %q %v, %d children", lookup.name, lookup.attrs, len(lookup.children))
	}
	// The first read missed and fetched under its lookup.
	miss := rcv.tree("22222222222222222222222222222222")
	t.Logf("GET /descriptors/limits (miss):\n%s", render(miss))
	if l := findSpan(miss, "descriptor cache lookup"); l == nil || l.attrs["pleskgate.cache.outcome"] != "miss" || findSpan(l.children, "admission wait") == nil {
		t.Fatalf("first read: want a cache miss that fetched:\n%s", render(miss))
	}

	// Plesk's errcode is on the attempt that got it.
	nfTree := rcv.tree("33333333333333333333333333333333")
	t.Logf("GET /clients/999999 (not found):\n%s", render(nfTree))
	var errcode string
	for _, c := range nfTree[0].children {
		if c.attrs["plesk.errcode"] != "" {
			errcode = c.attrs["plesk.errcode"]
		}
	}
	if errcode != "1013" || nfTree[0].attrs["plesk.errcode"] != "1013" {
		t.Fatalf("not-found read: want plesk.errcode 1013 on the attempt and the server span:\n%s", render(nfTree))
	}

	// The access log names the trace.
	var logged bool
	for _, e := range h.logs.FilterMessage("request").All() {
		if e.ContextMap()["trace_id"] == callerTraceID {
			logged = true
		}
	}
	if !logged {
		t.Error("no access-log line carries the caller's trace_id")
	}
}

// TestTracingRecordsNoSecrets sends real passwords, a Plesk secret key and
// an API key, and scans every exported byte (span names, attributes,
// events, resource) for them.
func TestTracingRecordsNoSecrets(t *testing.T) {
	rcv := newOTLPReceiver(t)
	h, tr, _ := tracingHarness(t, rcv)
	const clientPass = "Cl1ent-Pa55word-zq"
	body := newClientBody("nosecret1")
	body["password"] = clientPass
	h.expect(h.do("POST", "/clients", body), http.StatusCreated)
	h.do("GET", "/clients?login=nosecret1", nil)
	h.anonymous().with("X-API-Key", "admin-secret-key").do("GET", "/descriptors/permissions", nil)
	h.as("admin", "wrong-"+adminPass).do("GET", "/clients", nil) // refused by the panel
	h.anonymous().with("X-API-Key", "unknown-secret-key-9").do("GET", "/clients/1", nil)
	flush(t, tr)

	secrets := []string{adminPass, clientPass, "admin-secret-key", "unknown-secret-key-9",
		base64.StdEncoding.EncodeToString([]byte("admin:" + adminPass)), "HTTP_AUTH_PASSWD", "http_auth_passwd"}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.spans) < 5 {
		t.Fatalf("only %d spans exported", len(rcv.spans))
	}
	for _, raw := range rcv.raw {
		for _, s := range secrets {
			if strings.Contains(string(raw), s) {
				t.Errorf("exported span data contains %q", s)
			}
		}
	}
	for _, s := range rcv.spans {
		for k := range s.attrs {
			if strings.Contains(strings.ToLower(k), "header") {
				t.Errorf("span %q records a header: %s", s.name, k)
			}
		}
	}
}

// TestTracingRedisSpans: with Redis as the cache, a cached descriptor read
// is server span → cache lookup (hit) → the Redis GET (redisotel), still no
// upstream span; statements (cached bodies) are not recorded.
func TestTracingRedisSpans(t *testing.T) {
	r := storetest.StartRedis(t)
	rcv := newOTLPReceiver(t)
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.srv.URL}
	tr, err := telemetry.Setup(context.Background(), func(k string) string { return env[k] }, "pleskgate", "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	cache, idem, closer, err := store.NewRedis(r.URL(), store.WithTracerProvider(tr.Provider))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closer.Close() })
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) {
		gc.TracerProvider, gc.Propagator = tr.Provider, tr.Propagator
		gc.Cache, gc.Idempotency = cache, idem
	})
	h.expect(h.do("GET", "/descriptors/permissions", nil), http.StatusOK)
	const id = "44444444444444444444444444444444"
	hit := h.expect(h.with("Traceparent", "00-"+id+"-00f067aa0ba902b7-01").do("GET", "/descriptors/permissions", nil), http.StatusOK)
	if cs := hit.Header.Get("Cache-Status"); !strings.Contains(cs, "hit") {
		t.Fatalf("Cache-Status %q, want a hit", cs)
	}
	flush(t, tr)
	roots := rcv.tree(id)
	t.Logf("GET /descriptors/permissions (cached in Redis):\n%s", render(roots))
	if len(roots) != 1 || len(roots[0].children) != 1 {
		t.Fatalf("want server span → cache lookup only:\n%s", render(roots))
	}
	lookup := roots[0].children[0]
	if lookup.name != "descriptor cache lookup" || lookup.attrs["pleskgate.cache.outcome"] != "hit" ||
		len(lookup.children) != 1 || lookup.children[0].attrs["db.system.name"]+lookup.children[0].attrs["db.system"] != "redis" {
		t.Fatalf("want the lookup (hit) with one Redis span under it:\n%s", render(roots))
	}
	for _, s := range rcv.spans {
		for _, k := range []string{"db.statement", "db.query.text"} {
			if st := s.attrs[k]; st != "" && st != "<nil>" {
				t.Errorf("redis span %q records its statement %s=%q", s.name, k, st)
			}
		}
	}
}
