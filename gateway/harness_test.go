package gateway

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
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
	if gwCfg.Upstream.Concurrency == 0 {
		// Admission on, as cmd/pleskgate runs it by default: the detached
		// packets, the gate between a caller leaving and its packet going,
		// and the queue are the paths production takes.
		gwCfg.Upstream.Concurrency, gwCfg.Upstream.Queue = 8, 64
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

// beside is a copy of h that sends its requests to another gateway built
// from cfg (another replica, or one with another transport), in front of
// the same simulator and with its own metrics registry.
func (h *harness) beside(cfg Config) *harness {
	h.t.Helper()
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	gw, err := New(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	srv := httptest.NewServer(gw.Handler())
	h.t.Cleanup(srv.Close)
	c := *h
	c.gw, c.srv, c.reg = gw, srv, cfg.Registry
	return &c
}

// replicaSecret is the PLESKGATE_STATE_SECRET that redisReplicas share, as
// every replica of one deployment must.
var replicaSecret = []byte("replicas-share-this-state-secret-0123456789")

// redisReplicas is two gateways (two "replicas") in front of one plesksim,
// each with its own connection to the same Redis. a is a full harness; b is
// a copy of it that sends its requests to the second gateway.
func redisReplicas(t *testing.T, r *storetest.Redis) (a, b *harness) {
	t.Helper()
	a = newHarness(t, func(_ *plesksim.Config, gc *Config) {
		gc.Cache, gc.Idempotency = newRedisStoresT(t, r.URL())
		gc.StateSecret = replicaSecret
	})
	cache, idem := newRedisStoresT(t, r.URL())
	b = a.beside(Config{
		Upstream:      upstream.Config{BaseURL: a.simSrv.URL, Timeout: 5 * time.Second},
		DescriptorTTL: time.Minute,
		Cache:         cache,
		Idempotency:   idem,
		StateSecret:   replicaSecret,
	})
	// Protocol discovery on both, so that the counts below are only the work under test.
	a.expect(a.do("GET", "/meta", nil), http.StatusOK)
	b.expect(b.do("GET", "/meta", nil), http.StatusOK)
	a.sim.ResetStats()
	return a, b
}

// The in-process simulator environment of the fuzz targets and the fault
// tests, beside the loopback harness above.

// simTransport serves upstream requests from a plesksim in process, with no
// sockets and no goroutines: fuzzing runs thousands of requests a second.
type simTransport struct{ sim *plesksim.Server }

func (rt simTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	// A real server canonicalises header names; the gateway sets Plesk's
	// underscore names raw, so do what the wire would.
	in := r.Clone(r.Context())
	in.Header = http.Header{}
	for k, vs := range r.Header {
		in.Header[textproto.CanonicalMIMEHeaderKey(k)] = vs
	}
	in.RequestURI = r.URL.RequestURI()
	rec := httptest.NewRecorder()
	rt.sim.ServeHTTP(rec, in)
	if r.Body != nil {
		_ = r.Body.Close()
	}
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// panicCore is a zap core that keeps nothing but counts panic reports, so a
// long fuzzing run does not hoard log entries.
type panicCore struct {
	zapcore.LevelEnabler
	panics *atomic.Int64
	last   *atomic.Value
}

func (c panicCore) With([]zapcore.Field) zapcore.Core { return c }
func (c panicCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}
func (c panicCore) Write(e zapcore.Entry, fs []zapcore.Field) error {
	if e.Level >= zapcore.ErrorLevel && strings.Contains(e.Message, "panic") {
		c.panics.Add(1)
		enc := zapcore.NewMapObjectEncoder()
		for _, f := range fs {
			f.AddTo(enc)
		}
		c.last.Store(fmt.Sprint(enc.Fields))
	}
	return nil
}
func (c panicCore) Sync() error { return nil }

// simEnv is one gateway in front of one in-process simulator at one protocol
// version. Fuzz inputs run one after another in a worker process, so an env
// is reused; reset restores the base clients after each input.
type simEnv struct {
	version string
	sim     *plesksim.Server
	gw      *Server
	h       http.Handler
	panics  atomic.Int64
	last    atomic.Value
	base    []baseClient
}

// baseClient is a client every input starts with.
type baseClient struct {
	Login, Name, Company, Email, City, Country, Owner, ExternalID string
}

var baseClients = []baseClient{
	{Login: "alpha", Name: "Alpha A", Company: "A & <Co>", Email: "a@example.com", City: "Toronto", Country: "CA", ExternalID: "ext-a"},
	{Login: "beta", Name: "Beta B", Email: "b@example.com", City: "Berlin", Country: "DE", ExternalID: "ext-b"},
	{Login: "gamma", Name: "Gamma G", Company: "Res Co", Email: "g@example.com", Owner: "res1", ExternalID: "ext-g"},
	{Login: "delta", Name: "Delta D", Owner: "res1"},
}

const (
	fuzzAdminPass = "fz-admin-pass"
	fuzzResPass   = "fz-res1-pass"
)

var (
	simEnvsMu sync.Mutex
	simEnvs   = map[string]*simEnv{}
)

// fuzzVersions are the simulator's newest versions the fuzz targets rotate through.
var fuzzVersions = []string{"1.6.9.1", "1.6.0.0", "1.4.2.0", "1.6.3.0"}

func newSimEnv(t testing.TB, version string) *simEnv {
	simEnvsMu.Lock()
	defer simEnvsMu.Unlock()
	if e := simEnvs[version]; e != nil {
		return e
	}
	sim, err := plesksim.New(plesksim.Config{
		Protocol: version, AdminLogin: "admin", AdminPassword: fuzzAdminPass,
		Resellers: []plesksim.Account{{Login: "res1", Password: fuzzResPass}, {Login: "res2", Password: "fz-res2-pass"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &simEnv{version: version, sim: sim}
	logger := zap.New(panicCore{LevelEnabler: zapcore.ErrorLevel, panics: &e.panics, last: &e.last})
	up := upstream.Config{BaseURL: "http://plesksim.invalid", Timeout: 10 * time.Second,
		Transport: simTransport{sim}}
	gw, err := New(Config{Upstream: up, Logger: logger, DescriptorTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	e.gw, e.h = gw, gw.Handler()
	for _, b := range baseClients {
		if b.Owner != "" && version < "1.6.0.0" {
			continue // no owners before 1.6.0.0: the legacy base has only admin's clients
		}
		e.base = append(e.base, b)
	}
	e.reset(t)
	simEnvs[version] = e
	return e
}

// packet sends raw XML to the simulator as the administrator, bypassing the
// gateway, and returns the answer.
func (e *simEnv) packet(t testing.TB, xmlBody string) string {
	req := httptest.NewRequest("POST", plesksim.AgentPath, strings.NewReader(xmlBody))
	req.Header.Set("HTTP_AUTH_LOGIN", "admin")
	req.Header.Set("HTTP_AUTH_PASSWD", fuzzAdminPass)
	rec := httptest.NewRecorder()
	e.sim.ServeHTTP(rec, req)
	out := rec.Body.String()
	if rec.Code != 200 || strings.Contains(out, "<status>error</status>") {
		t.Fatalf("raw packet %s: %d %s", xmlBody, rec.Code, out)
	}
	return out
}

func (e *simEnv) operator() string {
	if e.version < "1.6.3.0" {
		return "client"
	}
	return "customer"
}

var idElement = regexp.MustCompile(`<id>(\d+)</id>`)

// addRaw creates a client with a raw add packet and returns its id.
func (e *simEnv) addRaw(t testing.TB, b baseClient) int {
	var g strings.Builder
	el := func(name, v string) {
		if v != "" {
			fmt.Fprintf(&g, "<%s>%s</%s>", name, xMLEscape(v), name)
		}
	}
	el("cname", b.Company)
	el("pname", b.Name)
	el("login", b.Login)
	el("passwd", "Pw-"+b.Login+"-1")
	el("email", b.Email)
	el("city", b.City)
	el("country", b.Country)
	if e.version >= "1.6.0.0" {
		el("owner-login", b.Owner)
	}
	if e.version >= "1.6.3.0" {
		el("external-id", b.ExternalID)
	}
	out := e.packet(t, fmt.Sprintf(`<packet version="%s"><%s><add><gen_info>%s</gen_info></add></%s></packet>`, e.version, e.operator(), g.String(), e.operator()))
	m := idElement.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no id in %s", out)
	}
	id, _ := strconv.Atoi(m[1])
	return id
}

func (e *simEnv) delRaw(t testing.TB, id int) {
	e.packet(t, fmt.Sprintf(`<packet version="%s"><%s><del><filter><id>%d</id></filter></del></%s></packet>`, e.version, e.operator(), id, e.operator()))
}

// reset deletes every client that is not a base client and re-creates the
// base clients that are missing or changed.
func (e *simEnv) reset(t testing.TB) {
	want := map[string]baseClient{}
	for _, b := range e.base {
		want[b.Login] = b
	}
	have := map[string]bool{}
	for _, c := range e.sim.Clients() {
		b, ok := want[c.Login]
		if ok && c.Name == b.Name && c.Company == b.Company && c.Email == b.Email && c.City == b.City && c.Country == b.Country && c.Status == 0 &&
			(b.Owner == "" && c.OwnerLogin == "admin" || c.OwnerLogin == b.Owner) && (e.version < "1.6.3.0" || c.ExternalID == b.ExternalID) && c.Phone == "" {
			have[c.Login] = true
			continue
		}
		e.delRaw(t, c.ID)
	}
	for _, b := range e.base {
		if !have[b.Login] {
			e.addRaw(t, b)
		}
	}
}

var xMLEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

func xMLEscape(s string) string { return xMLEscaper.Replace(s) }

// serve runs one request through the gateway's handler with a recorder.
func (e *simEnv) serve(method, target string, body []byte, contentType, login, password string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/", bytes.NewReader(body))
	path, rawQuery, _ := strings.Cut(target, "?")
	req.URL.Path, req.URL.RawQuery, req.RequestURI = path, rawQuery, target
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	} else if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if login != "" {
		req.SetBasicAuth(login, password)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

// checkAnswer applies the invariants every answer of a healthy upstream
// must meet: no panic, no 5xx except 501 for something the protocol lacks
// (with a healthy simulator 502/503/504 mean the gateway built a packet Plesk
// refused or misread its answer), and problem+json on every error.
func checkAnswer(t *testing.T, e *simEnv, rec *httptest.ResponseRecorder, what string) {
	t.Helper()
	if n := e.panics.Swap(0); n > 0 {
		t.Fatalf("%s: the gateway panicked: %v", what, e.last.Load())
	}
	if rec.Code >= 500 && rec.Code != http.StatusNotImplemented {
		t.Fatalf("%s: status %d from a healthy upstream: %s", what, rec.Code, rec.Body)
	}
	if rec.Code >= 400 {
		checkProblem(t, rec.Code, rec.Header(), rec.Body.Bytes(), what)
	}
}

// checkProblem checks an RFC 9457 body.
func checkProblem(t testing.TB, status int, h http.Header, body []byte, what string) Problem {
	t.Helper()
	if ct := h.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%s: status %d with Content-Type %q: %s", what, status, ct, body)
	}
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("%s: problem is not JSON: %v: %s", what, err, body)
	}
	if p.Status != status || p.Type == "" || p.Title == "" || p.RequestID == "" {
		t.Fatalf("%s: incomplete problem (HTTP %d): %s", what, status, body)
	}
	return p
}

// collapseSpace is XSD whiteSpace="collapse", which the simulator (like Plesk)
// applies to every string it stores.
func collapseSpace(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }), " ")
}

// clientField maps a JSON field of ClientCreate/ClientPatch to the simulator's value.
func clientField(c plesksim.Client, name string) (string, bool) {
	switch name {
	case "name":
		return c.Name, true
	case "login":
		return c.Login, true
	case "company":
		return c.Company, true
	case "email":
		return c.Email, true
	case "phone":
		return c.Phone, true
	case "fax":
		return c.Fax, true
	case "address":
		return c.Address, true
	case "city":
		return c.City, true
	case "state":
		return c.State, true
	case "postal_code":
		return c.PostalCode, true
	case "country":
		return c.Country, true
	case "locale":
		return c.Locale, true
	case "external_id":
		return c.ExternalID, true
	case "description":
		return c.Description, true
	}
	return "", false
}

// checkStored checks that every string field of sent (a decoded JSON
// object) is what the simulator holds: the same text, whitespace collapsed;
// null means cleared. The password is compared through ClientPassword.
func checkStored(t testing.TB, sim *plesksim.Server, sent map[string]any, c plesksim.Client, what string) {
	t.Helper()
	for k, v := range sent {
		if k == "password" {
			if s, ok := v.(string); ok {
				if got, _ := sim.ClientPassword(c.Login); got != collapseSpace(s) {
					t.Fatalf("%s: password stored as something else than was sent", what)
				}
			}
			continue
		}
		if k == "status" {
			if n, ok := v.(float64); ok && int(n) != c.Status {
				t.Fatalf("%s: status %d, sent %v", what, c.Status, v)
			}
			continue
		}
		got, ok := clientField(c, k)
		if !ok {
			continue
		}
		want := ""
		if s, isStr := v.(string); isStr {
			want = collapseSpace(s)
		} else if v != nil {
			continue
		}
		if got != want {
			t.Fatalf("%s: field %s stored as %q, sent %q (collapsed %q)", what, k, got, v, want)
		}
	}
}

func clientsByID(cs []plesksim.Client) map[int]plesksim.Client {
	m := make(map[int]plesksim.Client, len(cs))
	for _, c := range cs {
		m[c.ID] = c
	}
	return m
}

func sameState(a, b []plesksim.Client) bool { return reflect.DeepEqual(a, b) }

// The fault matrix: every way the upstream can fail, the status the gateway
// documents for it (DESIGN.md §3, gateway/errors.go), a problem+json body, no
// panic, and no goroutine left behind.

// faultGW is a gateway with its own upstream transport, so the test can
// close the transport's idle connections before looking for leaked goroutines.
type faultGW struct {
	t    *testing.T
	gw   *Server
	tr   *http.Transport
	logs *observer.ObservedLogs
}

type faultOpt func(*upstream.Config, *Config)

func newFaultGW(t *testing.T, baseURL string, timeout time.Duration, opts ...faultOpt) *faultGW {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	core, logs := observer.New(zap.DebugLevel)
	ucfg := upstream.Config{BaseURL: baseURL, Timeout: timeout, Transport: tr,
		RetryInitial: 10 * time.Millisecond, BreakerMinCalls: 1000, BreakerOpenFor: time.Hour}
	gcfg := Config{Logger: zap.New(core), DescriptorTTL: time.Minute}
	for _, o := range opts {
		o(&ucfg, &gcfg)
	}
	ucfg.Logger = gcfg.Logger
	gcfg.Upstream = ucfg
	gw, err := New(gcfg)
	if err != nil {
		t.Fatal(err)
	}
	g := &faultGW{t: t, gw: gw, tr: tr, logs: logs}
	t.Cleanup(tr.CloseIdleConnections)
	return g
}

// do runs one request as the administrator and checks the invariants every
// failure must meet; it returns the problem.
func (g *faultGW) do(method, path, body string, want int) Problem {
	g.t.Helper()
	rec := g.serve(method, path, body)
	what := method + " " + path
	if rec.Code != want {
		g.t.Fatalf("%s: status %d, want %d: %s", what, rec.Code, want, rec.Body)
	}
	for _, e := range g.logs.All() {
		if strings.Contains(e.Message, "panic") {
			g.t.Fatalf("%s: panic logged: %v", what, e.ContextMap())
		}
	}
	if want < 400 {
		return Problem{}
	}
	return checkProblem(g.t, rec.Code, rec.Header(), rec.Body.Bytes(), what)
}

// status runs one request and returns its status only.
func (g *faultGW) status(method, path, body string) int {
	return g.serve(method, path, body).Code
}

// serve runs one request as the administrator.
func (g *faultGW) serve(method, path, body string) *httptest.ResponseRecorder {
	var rd io.Reader = http.NoBody
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.SetBasicAuth("admin", adminPass)
	rec := httptest.NewRecorder()
	g.gw.Handler().ServeHTTP(rec, req)
	return rec
}

// knownBug fails on a bug these tests once found in non-test code (all
// since fixed); the message says what went wrong and how it was fixed.
func knownBug(t *testing.T, msg string) {
	t.Helper()
	t.Fatal("regression of a known bug: " + msg)
}

// startSim serves a plesksim over loopback HTTP.
func startSim(t *testing.T) (*plesksim.Server, *httptest.Server) {
	t.Helper()
	sim, err := plesksim.New(plesksim.Config{AdminLogin: "admin", AdminPassword: adminPass})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv
}

// rawUpstream accepts connections and hands each to serve after reading
// the request head and body, so a test controls every byte of the answer.
type rawUpstream struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func newRawUpstream(t *testing.T, serve func(c net.Conn, r *http.Request)) *rawUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &rawUpstream{ln: ln}
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u.mu.Lock()
			u.conns = append(u.conns, c)
			u.mu.Unlock()
			u.wg.Add(1)
			go func() {
				defer u.wg.Done()
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				body, _ := io.ReadAll(req.Body)
				req.Body = io.NopCloser(bytes.NewReader(body))
				serve(c, req) // one answer per connection, then close
			}()
		}
	}()
	t.Cleanup(u.close)
	return u
}

func (u *rawUpstream) url() string { return "http://" + u.ln.Addr().String() }

func (u *rawUpstream) close() {
	_ = u.ln.Close()
	u.mu.Lock()
	for _, c := range u.conns {
		_ = c.Close()
	}
	u.mu.Unlock()
	u.wg.Wait()
}

const protosAnswer = `<packet version="1.6.9.1"><server><get_protos><result><status>ok</status><protos><proto>1.6.0.2</proto><proto>1.6.9.1</proto></protos></result></get_protos></server></packet>`

func systemErrorAnswer(code int) string {
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><packet version="1.6.9.1"><system><status>error</status><errcode>%d</errcode><errtext>simulated &lt;error&gt; %d</errtext></system></packet>`, code, code)
}

// ignoreLRU ignores the TTL goroutine of hashicorp/golang-lru/v2's
// expirable LRU: every gateway.New starts two (descriptor cache, idempotency
// store) that never end, as the library documents ("done channel is never
// closed"). Reported as a finding; one per gateway, not per request.
var ignoreLRU = goleak.IgnoreAnyFunction("github.com/hashicorp/golang-lru/v2/expirable.NewLRU[...].func1")

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// serveLimited serves h's gateway as cmd/pleskgate does: its HTTPServer on
// its LimitListener, on a loopback port. It returns the address.
func serveLimited(t *testing.T, h *harness) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := h.gw.HTTPServer()
	go func() { _ = hs.Serve(h.gw.LimitListener(ln)) }()
	t.Cleanup(func() { _ = hs.Close() })
	return ln.Addr().String()
}

func basicHeader(login, password string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(login+":"+password)) + "\r\n"
}

// rawExchange writes head and body on a fresh connection, all of it before
// reading anything (as Python's urllib does), then reads one response.
func rawExchange(t *testing.T, addr, head string, body []byte) (*http.Response, []byte, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A small send buffer, as over a real network: loopback's large
	// buffers would otherwise take the whole body before the server reads.
	_ = conn.(*net.TCPConn).SetWriteBuffer(16 << 10)
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, head); err != nil {
		return nil, nil, fmt.Errorf("writing the head: %w", err)
	}
	if _, err := conn.Write(body); err != nil {
		return nil, nil, fmt.Errorf("writing the body: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the response: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp, data, err
}
