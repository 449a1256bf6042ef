package gateway_test

// Handler-path benchmarks for docs/BENCHMARKS.md. Run them with
//
//	go test -run=NONE -bench=. -benchmem ./gateway
//
// The request goes through srv.Handler() (every middleware, the OpenAPI
// validator, the strict handler) into an httptest.ResponseRecorder; the
// upstream is a plesksim on a loopback httptest server, so each iteration
// includes one real HTTP round trip to the simulator and the simulator's own
// work. There are no timing assertions.

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pleskgate/pleskgate/gateway"
	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/internal/loadtest"
	"github.com/pleskgate/pleskgate/plesksim"
	"github.com/pleskgate/pleskgate/translator"
)

const benchAdminPassword = "bench-Secret-1"

type benchEnv struct {
	sim  *plesksim.Server
	h    http.Handler
	auth string
}

// newBenchEnv starts a plesksim answering up to newest and a gateway in auto
// mode in front of it. accessLog selects a production-like JSON access log
// written to io.Discard instead of the no-op logger.
func newBenchEnv(b *testing.B, newest string, accessLog bool) *benchEnv {
	b.Helper()
	sim, err := plesksim.New(plesksim.Config{Protocol: newest, AdminLogin: "admin", AdminPassword: benchAdminPassword, DemoClients: true})
	if err != nil {
		b.Fatal(err)
	}
	simSrv := httptest.NewServer(sim)
	b.Cleanup(simSrv.Close)
	// The transport cmd/pleskgate uses: the default one with a larger idle pool.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 256, 128
	b.Cleanup(tr.CloseIdleConnections)
	log := zap.NewNop()
	if accessLog {
		log = zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zap.InfoLevel))
	}
	srv, err := gateway.New(gateway.Config{
		Upstream: upstream.Config{BaseURL: simSrv.URL, Timeout: 10 * time.Second, Transport: tr},
		Logger:   log,
	})
	if err != nil {
		b.Fatal(err)
	}
	return &benchEnv{sim: sim, h: srv.Handler(), auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+benchAdminPassword))}
}

// do serves one request and fails the benchmark on an unexpected status.
func (e *benchEnv) do(b *testing.B, method, target string, want int) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	r.Header.Set("Authorization", e.auth)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code != want {
		b.Fatalf("%s %s: status %d, want %d: %s", method, target, w.Code, want, w.Body)
	}
	return w
}

// loop runs the request b.N times and reports upstream packets per request
// from the simulator's counters.
func (e *benchEnv) loop(b *testing.B, method, target string, want int) {
	e.do(b, method, target, want) // warm: protocol versions learned, caches filled
	before := e.sim.Stats().Requests
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		e.do(b, method, target, want)
	}
	b.StopTimer()
	b.ReportMetric(float64(e.sim.Stats().Requests-before)/float64(b.N), "packets/op")
}

func firstClientID(b *testing.B, sim *plesksim.Server) int {
	cs := sim.Clients()
	if len(cs) == 0 {
		b.Fatal("simulator has no demo clients")
	}
	return cs[0].ID
}

// BenchmarkGetClient is GET /clients/{id} through the whole handler.
func BenchmarkGetClient(b *testing.B) {
	for _, c := range []struct {
		name, newest, query string
		accessLog           bool
	}{
		{"modern@1.6.9.1", "1.6.9.1", "", false},
		{"modern@1.6.9.1/access-log", "1.6.9.1", "", true},
		{"modern@1.6.9.1/include=stat", "1.6.9.1", "?include=stat", false},
		{"legacy@1.6.0.2", "1.6.0.2", "", false},
	} {
		b.Run(c.name, func(b *testing.B) {
			e := newBenchEnv(b, c.newest, c.accessLog)
			e.loop(b, http.MethodGet, fmt.Sprintf("/clients/%d%s", firstClientID(b, e.sim), c.query), http.StatusOK)
		})
	}
}

// BenchmarkGetClientParallel is GET /clients/{id} from GOMAXPROCS goroutines.
func BenchmarkGetClientParallel(b *testing.B) {
	e := newBenchEnv(b, "1.6.9.1", false)
	target := fmt.Sprintf("/clients/%d", firstClientID(b, e.sim))
	e.do(b, http.MethodGet, target, http.StatusOK)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest(http.MethodGet, target, nil)
			r.Header.Set("Authorization", e.auth)
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Errorf("status %d", w.Code)
				return
			}
		}
	})
}

// BenchmarkLimitDescriptorCached is a descriptor cache hit: no upstream
// packet (packets/op should be 0).
func BenchmarkLimitDescriptorCached(b *testing.B) {
	e := newBenchEnv(b, "1.6.0.2", false)
	e.loop(b, http.MethodGet, "/descriptors/limits", http.StatusOK)
}

// BenchmarkStaticEchoFloor serves the cached descriptor's body from a bare
// Echo handler through the same recorder: the floor BenchmarkLimitDescriptorCached
// is compared with (pleskbench's scenario (e), without the network).
func BenchmarkStaticEchoFloor(b *testing.B) {
	e := newBenchEnv(b, "1.6.0.2", false)
	body := e.do(b, http.MethodGet, "/descriptors/limits", http.StatusOK).Body.Bytes()
	ec := echo.New()
	ec.GET("/descriptors/limits", func(c echo.Context) error { return c.JSONBlob(http.StatusOK, body) })
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodGet, "/descriptors/limits", nil)
		r.Header.Set("Authorization", e.auth)
		w := httptest.NewRecorder()
		ec.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkHealthz is the floor of the Echo stack without the validator.
func BenchmarkHealthz(b *testing.B) {
	e := newBenchEnv(b, "1.6.9.1", false)
	e.loop(b, http.MethodGet, "/healthz", http.StatusOK)
}

// BenchmarkListClients is GET /clients?limit=1000 over n clients: one
// blank-filter get of all n per page (Plesk has no paging).
func BenchmarkListClients(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			e := newBenchEnv(b, "1.6.9.1", false)
			seedClients(b, e.sim, n-len(e.sim.Clients()))
			e.loop(b, http.MethodGet, "/clients?limit=1000", http.StatusOK)
		})
	}
}

// seedClients adds n clients straight to the simulator, 100 per packet.
func seedClients(b *testing.B, sim *plesksim.Server, n int) {
	b.Helper()
	v := translator.MustParseVersion(sim.Versions()[len(sim.Versions())-1])
	for done := 0; done < n; {
		var reqs []translator.Request
		for ; len(reqs) < 100 && done < n; done++ {
			reqs = append(reqs, &translator.AddRequest{Client: translator.NewClient{
				Name: fmt.Sprintf("Bench Client %d", done), Login: fmt.Sprintf("bench%d", done), Password: "bench-Pass1",
			}})
		}
		pkt, err := translator.EncodeRequest(v, reqs...)
		if err != nil {
			b.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodPost, plesksim.AgentPath, strings.NewReader(string(pkt)))
		r.Header.Set("HTTP_AUTH_LOGIN", "admin")
		r.Header.Set("HTTP_AUTH_PASSWD", benchAdminPassword)
		w := httptest.NewRecorder()
		sim.ServeHTTP(w, r)
		if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "<status>error</status>") {
			b.Fatalf("seeding: %d %.300s", w.Code, w.Body)
		}
	}
}

// TestLoadSmall is the small size of cmd/pleskload (make load runs
// the full one): 2,000 mixed requests at concurrency 16, every answer as the
// model predicts, and the simulator's final state equal to the model.
func TestLoadSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	rep, err := loadtest.Run(context.Background(), loadtest.Config{Requests: 2000, Concurrency: 16, LoginsPerWorker: 10, MaxDuration: 2 * time.Minute, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.Print(&out)
	t.Log("\n" + out.String())
	if !rep.OK() {
		t.Fatal("load run failed (see the report above)")
	}
}

// cannedTransport answers every packet from the simulator in process, and
// the get of one client from a copy of its first answer: the gateway's own
// work on GET /clients/{id} without a network or the simulator's time.
type cannedTransport struct {
	sim    *plesksim.Server
	get    string // a packet's bytes
	answer []byte // its answer
}

func (t *cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	if string(body) != t.get || t.answer == nil {
		r2 := httptest.NewRequest(r.Method, r.URL.Path, bytes.NewReader(body))
		for k, vs := range r.Header { // as a server reads them: canonical names
			r2.Header[http.CanonicalHeaderKey(k)] = vs
		}
		w := httptest.NewRecorder()
		t.sim.ServeHTTP(w, r2)
		if string(body) == t.get {
			t.answer = w.Body.Bytes()
		}
		return w.Result(), nil
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"text/xml; charset=UTF-8"}},
		Body: io.NopCloser(bytes.NewReader(t.answer)), ContentLength: int64(len(t.answer)), Request: r}, nil
}

// BenchmarkGetClientHandler is GET /clients/{id} through the whole handler
// with the upstream answered from memory (cannedTransport): what the gateway
// itself spends and allocates per read, upstream HTTP client excluded.
func BenchmarkGetClientHandler(b *testing.B) {
	sim, err := plesksim.New(plesksim.Config{Protocol: "1.6.9.1", AdminLogin: "admin", AdminPassword: benchAdminPassword, DemoClients: true})
	if err != nil {
		b.Fatal(err)
	}
	id := firstClientID(b, sim)
	v := translator.MustParseVersion("1.6.9.1")
	pkt, err := translator.EncodeRequest(v, &translator.GetRequest{Filter: translator.ByID(id), GenInfo: true})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := gateway.New(gateway.Config{
		Upstream: upstream.Config{BaseURL: "http://plesk.invalid:8443", Timeout: 10 * time.Second,
			Transport: &cannedTransport{sim: sim, get: string(pkt)}},
		Logger: zap.NewNop(),
	})
	if err != nil {
		b.Fatal(err)
	}
	e := &benchEnv{sim: sim, h: srv.Handler(), auth: "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+benchAdminPassword))}
	e.loop(b, http.MethodGet, fmt.Sprintf("/clients/%d", id), http.StatusOK)
}
