package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"

	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/plesksim"
)

func TestIdempotencyKey(t *testing.T) {
	h := newHarness(t)
	k := h.with("Idempotency-Key", "key-1")
	first := k.expect(k.do("POST", "/clients", newClientBody("idem")), http.StatusCreated)
	again := k.expect(k.do("POST", "/clients", newClientBody("idem")), http.StatusCreated)
	if string(first.body) != string(again.body) || again.Header.Get("Location") != first.Header.Get("Location") {
		t.Fatalf("replay differs:\n%s\n%s", first.body, again.body)
	}
	if again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("replay not marked")
	}
	if n := len(h.sim.Clients()); n != 1 {
		t.Fatalf("%d clients after a replay", n)
	}
	// Same key, different body.
	k.expect(k.do("POST", "/clients", newClientBody("idem-other")), http.StatusUnprocessableEntity).problem(t)
	// A refused request is final for its key too: its problem is replayed.
	k2 := h.with("Idempotency-Key", "key-2")
	p1 := k2.expect(k2.do("POST", "/clients", newClientBody("idem")), http.StatusConflict)
	p2 := k2.expect(k2.do("POST", "/clients", newClientBody("idem")), http.StatusConflict)
	if string(p1.body) != string(p2.body) {
		t.Fatal("a stored problem was not replayed")
	}
	// Keys are per caller: another caller's key-1 is a new request.
	r := h.as("res1", resellerPass).with("Idempotency-Key", "key-1")
	r.expect(r.do("POST", "/clients", newClientBody("idem-res")), http.StatusCreated)
}

func TestIdempotencyConcurrentPostsCreateOneClient(t *testing.T) {
	h := newHarness(t)
	h.expect(h.do("GET", "/meta", nil), http.StatusOK)
	// Slow the upstream so the 50 requests overlap the first one.
	h.sim.SetFaults(plesksim.Faults{Latency: 150 * time.Millisecond})
	k := h.with("Idempotency-Key", "burst")
	const n = 50
	var wg sync.WaitGroup
	var created, inFlight, other atomic.Int32
	ids := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := k.do("POST", "/clients", newClientBody("burst"))
			switch r.StatusCode {
			case http.StatusCreated:
				created.Add(1)
				ids <- r.Header.Get("Location")
			case http.StatusConflict:
				inFlight.Add(1)
			default:
				other.Add(1)
				t.Errorf("status %d: %s", r.StatusCode, r.body)
			}
		}()
	}
	wg.Wait()
	close(ids)
	if got := len(h.sim.Clients()); got != 1 {
		t.Fatalf("50 concurrent POSTs with one key created %d clients", got)
	}
	seen := map[string]bool{}
	for id := range ids {
		seen[id] = true
	}
	if created.Load() < 1 || len(seen) != 1 || other.Load() != 0 {
		t.Fatalf("created=%d in-flight=%d other=%d locations=%v", created.Load(), inFlight.Load(), other.Load(), seen)
	}
}

// flakyUpstream answers the first fails requests with HTTP 500, then passes
// requests to the simulator.
type flakyUpstream struct {
	sim   http.Handler
	fails atomic.Int32
	seen  atomic.Int32
}

func (f *flakyUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.seen.Add(1)
	if f.fails.Add(-1) >= 0 {
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	}
	f.sim.ServeHTTP(w, r)
}

func TestRetriesOnlyReads(t *testing.T) {
	flaky := &flakyUpstream{}
	up := httptest.NewServer(flaky)
	defer up.Close()
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) {
		gc.Upstream = upstream.Config{BaseURL: up.URL, Timeout: 5 * time.Second, RetryInitial: time.Millisecond}
	})
	flaky.sim = h.sim
	h.expect(h.do("GET", "/meta", nil), http.StatusOK)

	flaky.fails.Store(2)
	flaky.seen.Store(0)
	h.expect(h.do("GET", "/clients", nil), http.StatusOK) // two 500s, then the answer
	if got := flaky.seen.Load(); got != 3 {
		t.Fatalf("a read took %d attempts, want 3", got)
	}
	flaky.fails.Store(1)
	flaky.seen.Store(0)
	h.expect(h.do("POST", "/clients", newClientBody("noretry")), http.StatusBadGateway).problem(t)
	if got := flaky.seen.Load(); got != 1 {
		t.Fatalf("a write was sent %d times", got)
	}
	if len(h.sim.Clients()) != 0 {
		t.Fatal("the failed write reached the simulator")
	}
}

func TestCircuitBreakerOpensAndRecovers(t *testing.T) {
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) {
		gc.Upstream = upstream.Config{Timeout: time.Second, RetryMax: -1,
			BreakerFailures: 3, BreakerOpenFor: 300 * time.Millisecond}
	})
	h.expect(h.do("GET", "/meta", nil), http.StatusOK)
	h.sim.SetFaults(plesksim.Faults{Kind: plesksim.FaultDrop, Rate: 1})
	for i := 0; i < 3; i++ {
		h.expect(h.do("GET", "/clients", nil), http.StatusServiceUnavailable)
	}
	if got := h.gw.upstream.BreakerState(); got != "open" {
		t.Fatalf("breaker %s after 3 failures", got)
	}
	if g := testutil.ToFloat64(h.gw.metrics.breakerState); g != 2 {
		t.Fatalf("breaker gauge %v, want 2 (open)", g)
	}
	before := h.sim.Stats().Requests
	p := h.expect(h.do("GET", "/clients", nil), http.StatusServiceUnavailable).problem(t)
	if !strings.Contains(p.Detail, "circuit breaker") || h.sim.Stats().Requests != before {
		t.Fatalf("an open breaker still called upstream: %+v", p)
	}
	h.sim.SetFaults(plesksim.Faults{})
	time.Sleep(350 * time.Millisecond)
	h.expect(h.do("GET", "/clients", nil), http.StatusOK)
	if got := h.gw.upstream.BreakerState(); got != "closed" {
		t.Fatalf("breaker %s after recovery", got)
	}
}

func TestServiceMode(t *testing.T) {
	readKey, writeKey := "read-key-123", "write-key-456"
	hash := func(k string) string { s := sha256.Sum256([]byte(k)); return hex.EncodeToString(s[:]) }
	keys, err := NewAPIKeys([]APIKey{{Name: "viewer", Scope: "read", SHA256: hash(readKey)}, {Name: "writer", Scope: "write", SHA256: hash(writeKey)}})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) {
		gc.AuthMode = AuthService
		gc.APIKeys = keys
		gc.ServiceCredentials = upstream.Credentials{Login: "admin", Password: adminPass}
	}).anonymous()
	h.expect(h.do("GET", "/clients", nil), http.StatusUnauthorized).problem(t)
	r := h.with("X-API-Key", "nope").do("GET", "/clients", nil)
	h.expect(r, http.StatusUnauthorized).problem(t)
	if r.Header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 without WWW-Authenticate")
	}
	// Basic credentials are not a gateway key.
	h.as("admin", adminPass).expect(h.as("admin", adminPass).do("GET", "/clients", nil), http.StatusUnauthorized)
	reader := h.with("X-API-Key", readKey)
	reader.expect(reader.do("GET", "/clients", nil), http.StatusOK)
	reader.expect(reader.do("POST", "/clients", newClientBody("svc")), http.StatusForbidden).problem(t)
	if len(h.sim.Clients()) != 0 {
		t.Fatal("a read key wrote")
	}
	writer := h.with("X-API-Key", writeKey)
	writer.expect(writer.do("POST", "/clients", newClientBody("svc")), http.StatusCreated)
	if c := h.sim.Clients(); len(c) != 1 || c[0].OwnerLogin != "admin" {
		t.Fatalf("service mode did not act as the gateway's own account: %+v", c)
	}
}

func TestNoSecretsInLogs(t *testing.T) {
	h := newHarness(t)
	// Debug level, packet dumps included.
	clientPass := "Cl1ent-Pa55word"
	body := newClientBody("secretive")
	body["password"] = clientPass
	var c obj
	h.expect(h.do("POST", "/clients", body), http.StatusCreated).json(t, &c)
	base := fmt.Sprintf("/clients/%v", c["id"])
	newPass := "N3w-Pa55word"
	h.expect(h.do("PATCH", base, obj{"password": newPass}, "application/merge-patch+json"), http.StatusOK)
	if pw, _ := h.sim.ClientPassword("secretive"); pw != newPass {
		t.Fatalf("password not changed: %q", pw)
	}
	h.expect(h.as("admin", "Wr0ng-admin-pass").do("GET", "/clients", nil), http.StatusUnauthorized)
	h.expect(h.anonymous().with("X-API-Key", "admin-secret-key").do("GET", base, nil), http.StatusOK)
	h.do("GET", base+"/stat", nil)
	h.do("GET", "/descriptors/limits", nil)
	h.expect(h.do("DELETE", base, nil), http.StatusNoContent)
	entries := h.logs.All()
	if len(entries) < 5 {
		t.Fatalf("only %d log lines", len(entries))
	}
	sawDump := false
	for _, e := range entries {
		line := e.Message
		for k, v := range e.ContextMap() {
			line += fmt.Sprintf(" %s=%v", k, v)
		}
		if strings.Contains(line, "<passwd>[redacted]</passwd>") {
			sawDump = true
		}
		for _, secret := range []string{adminPass, clientPass, newPass, "Wr0ng-admin-pass", "admin-secret-key"} {
			if strings.Contains(line, secret) {
				t.Fatalf("log line leaks a secret: %s", line)
			}
		}
	}
	if !sawDump {
		t.Fatal("no redacted packet dump was logged: the check above proved nothing about dumps")
	}
}

func TestMetricsLint(t *testing.T) {
	h := newHarness(t)
	h.expect(h.do("GET", "/clients", nil), http.StatusOK)
	h.do("GET", "/descriptors/limits", nil)
	problems, err := testutil.GatherAndLint(h.reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("metric %s: %s", p.Metric, p.Text)
	}
	r := h.anonymous().expect(h.anonymous().do("GET", "/metrics", nil), http.StatusOK)
	for _, want := range []string{
		`pleskgate_http_requests_total{method="GET",operation="listClients",status="200"}`,
		`pleskgate_upstream_packets_total{errcode="0",operation="customer/get",outcome="ok"}`,
		`pleskgate_descriptor_cache_requests_total{outcome="miss"}`,
		`pleskgate_upstream_circuit_breaker_state 0`,
		`pleskgate_http_requests_in_flight`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestServerHygiene(t *testing.T) {
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) { gc.MaxBodyBytes = 1024 })
	t.Run("413", func(t *testing.T) {
		body := newClientBody("big")
		body["description"] = strings.Repeat("x", 2048)
		h.expect(h.do("POST", "/clients", body), http.StatusRequestEntityTooLarge).problem(t)
		if len(h.sim.Clients()) != 0 {
			t.Fatal("an oversize body created a client")
		}
	})
	t.Run("panic is a 500", func(t *testing.T) {
		h.gw.echo.GET("/test-panic", func(echo.Context) error { panic("boom") })
		h.expect(h.anonymous().do("GET", "/test-panic", nil), http.StatusInternalServerError).problem(t)
		h.expect(h.do("GET", "/clients", nil), http.StatusOK) // still serving
	})
	t.Run("request id", func(t *testing.T) {
		r := h.with("X-Request-ID", "abc-123").do("GET", "/clients", nil)
		if r.Header.Get("X-Request-ID") != "abc-123" {
			t.Fatal("X-Request-ID not echoed")
		}
		if h.do("GET", "/clients", nil).Header.Get("X-Request-ID") == "" {
			t.Fatal("no X-Request-ID generated")
		}
	})
	t.Run("CORS off by default", func(t *testing.T) {
		r := h.with("Origin", "https://app.example").do("GET", "/clients", nil)
		if r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatal("CORS answered while not configured")
		}
	})
	t.Run("If-Match", func(t *testing.T) {
		id := h.createClient("etagged")
		path := fmt.Sprintf("/clients/%d", id)
		h.expect(h.with("If-Match", `"stale"`).do("DELETE", path, nil), http.StatusPreconditionFailed).problem(t)
		h.expect(h.with("If-Match", `"stale"`).do("PUT", path+"/owner", obj{"owner_login": "res1", "ipv4_addresses": []string{"192.0.2.10"}}), http.StatusPreconditionFailed)
		if len(h.sim.Clients()) != 1 || h.sim.Clients()[0].OwnerLogin != "admin" {
			t.Fatal("a failed precondition changed state")
		}
		etag := h.do("GET", path, nil).Header.Get("ETag")
		h.expect(h.with("If-Match", etag).do("DELETE", path, nil), http.StatusNoContent)
	})
}

func TestCORSWhenConfigured(t *testing.T) {
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) { gc.CORSOrigins = []string{"https://app.example"} })
	r := h.with("Origin", "https://app.example").do("GET", "/clients", nil)
	if r.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Fatalf("CORS headers: %v", r.Header)
	}
	r = h.with("Origin", "https://evil.example").do("GET", "/clients", nil)
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS allowed an unlisted origin")
	}
}

var _ = zap.NewNop
