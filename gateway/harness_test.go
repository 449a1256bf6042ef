package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/pleskgate/pleskgate/gateway/store"
	"github.com/pleskgate/pleskgate/gateway/store/storetest"
	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/plesksim"
)

const (
	adminPass    = "admin-secret-1"
	resellerPass = "reseller-secret-1"
	otherPass    = "other-secret-1"
)

// harness is a gateway in front of a plesksim, both over real HTTP on loopback.
type harness struct {
	t       *testing.T
	sim     *plesksim.Server
	simSrv  *httptest.Server
	gw      *Server
	srv     *httptest.Server
	logs    *observer.ObservedLogs
	reg     *prometheus.Registry
	user    string
	pass    string
	headers http.Header
}

type harnessOpt func(*plesksim.Config, *Config)

func withProtocol(newest string) harnessOpt {
	return func(sc *plesksim.Config, _ *Config) { sc.Protocol = newest }
}

func withPinned(setting string) harnessOpt {
	return func(_ *plesksim.Config, gc *Config) {
		p, err := ParseProtocolSetting(setting)
		if err != nil {
			panic(err)
		}
		gc.Protocol = p
	}
}

func newHarness(t *testing.T, opts ...harnessOpt) *harness {
	t.Helper()
	simCfg := plesksim.Config{
		AdminLogin: "admin", AdminPassword: adminPass,
		Resellers: []plesksim.Account{{Login: "res1", Password: resellerPass}, {Login: "res2", Password: otherPass}},
		Keys:      []string{"admin-secret-key"},
	}
	core, logs := observer.New(zap.DebugLevel)
	reg := prometheus.NewRegistry()
	gwCfg := Config{Logger: zap.New(core), Registry: reg, DescriptorTTL: time.Minute}
	for _, o := range opts {
		o(&simCfg, &gwCfg)
	}
	sim, err := plesksim.New(simCfg)
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)
	// Options may configure the upstream client; it goes to this
	// simulator unless they name another server.
	if gwCfg.Upstream.BaseURL == "" {
		gwCfg.Upstream.BaseURL = simSrv.URL
	}
	if gwCfg.Upstream.Timeout == 0 {
		gwCfg.Upstream.Timeout = 5 * time.Second
	}
	gw, err := New(gwCfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw.Handler())
	t.Cleanup(srv.Close)
	return &harness{t: t, sim: sim, simSrv: simSrv, gw: gw, srv: srv, logs: logs, reg: reg, user: "admin", pass: adminPass}
}

// as returns a copy of h that authenticates as login/password.
func (h *harness) as(login, password string) *harness {
	c := *h
	c.user, c.pass = login, password
	return &c
}

// anonymous returns a copy of h that sends no credentials.
func (h *harness) anonymous() *harness { return h.as("", "") }

// with returns a copy of h that adds header k: v to every request.
func (h *harness) with(k, v string) *harness {
	c := *h
	c.headers = h.headers.Clone()
	if c.headers == nil {
		c.headers = http.Header{}
	}
	c.headers.Set(k, v)
	return &c
}

type response struct {
	*http.Response
	body []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

func (r response) problem(t *testing.T) Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json; body %s", ct, r.body)
	}
	var p Problem
	r.json(t, &p)
	if p.Status != r.StatusCode {
		t.Fatalf("problem status %d, HTTP status %d", p.Status, r.StatusCode)
	}
	if p.RequestID == "" || p.Type == "" || p.Title == "" {
		t.Fatalf("problem lacks type/title/request_id: %s", r.body)
	}
	return p
}

// do sends a request; body may be nil, a string (sent as is) or a value (JSON).
func (h *harness) do(method, path string, body any, contentType ...string) response {
	h.t.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	if len(contentType) > 0 {
		ct = contentType[0]
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", ct)
	}
	if h.user != "" {
		req.SetBasicAuth(h.user, h.pass)
	}
	for k, vs := range h.headers {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return response{Response: resp, body: data}
}

func (h *harness) expect(r response, status int) response {
	h.t.Helper()
	if r.StatusCode != status {
		h.t.Fatalf("%s %s: status %d, want %d; body %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.body)
	}
	return r
}

// newRedisStoresT builds the stores from url, closed at the end of the test.
func newRedisStoresT(t *testing.T, url string) (store.Cache, store.Idempotency) {
	t.Helper()
	cache, idem, closer, err := store.NewRedis(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closer.Close() })
	return cache, idem
}

// redisReplicas is two gateways (two "replicas") in front of one plesksim,
// each with its own connection to the same Redis. a is a full harness; b is
// a copy of it that sends its requests to the second gateway.
func redisReplicas(t *testing.T, r *storetest.Redis) (a, b *harness) {
	t.Helper()
	a = newHarness(t, func(_ *plesksim.Config, gc *Config) {
		gc.Cache, gc.Idempotency = newRedisStoresT(t, r.URL())
	})
	cache, idem := newRedisStoresT(t, r.URL())
	gwB, err := New(Config{
		Upstream:      upstream.Config{BaseURL: a.simSrv.URL, Timeout: 5 * time.Second},
		DescriptorTTL: time.Minute,
		Cache:         cache,
		Idempotency:   idem,
	})
	if err != nil {
		t.Fatal(err)
	}
	srvB := httptest.NewServer(gwB.Handler())
	t.Cleanup(srvB.Close)
	bb := *a
	bb.gw, bb.srv = gwB, srvB
	b = &bb
	// Protocol discovery on both, so that the counts below are only the work under test.
	a.expect(a.do("GET", "/meta", nil), http.StatusOK)
	b.expect(b.do("GET", "/meta", nil), http.StatusOK)
	a.sim.ResetStats()
	return a, b
}
