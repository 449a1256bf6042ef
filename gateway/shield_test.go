package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"

	"github.com/pleskgate/pleskgate/gateway/store"
	"github.com/pleskgate/pleskgate/gateway/store/storetest"
	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/plesksim"
)

// fakeClock is the shield's injected clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// loginCounter wraps a simulator and counts what the panel saw: packets,
// and failed logins (answers with an authentication system error).
// A test can slow every answer (delay, in nanoseconds) or make the panel
// answer a bare HTTP status without judging anything (status; 0: off).
type loginCounter struct {
	next    http.Handler
	packets atomic.Int64
	failed  atomic.Int64
	delay   atomic.Int64
	status  atomic.Int64
}

func (lc *loginCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lc.packets.Add(1)
	time.Sleep(time.Duration(lc.delay.Load()))
	if code := lc.status.Load(); code != 0 {
		http.Error(w, "panel incident", int(code))
		return
	}
	rec := httptest.NewRecorder()
	lc.next.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	for _, code := range []string{"1001", "1029", "11003"} {
		if bytes.Contains(body, []byte("<errcode>"+code+"</errcode>")) {
			lc.failed.Add(1)
		}
	}
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

// shieldEnv is a gateway with an injected clock in front of a counted simulator.
type shieldEnv struct {
	t      *testing.T
	sim    *plesksim.Server
	simURL string
	lc     *loginCounter
	gw     *Server
	srv    *httptest.Server
	clock  *fakeClock
	reg    *prometheus.Registry
}

func newShieldEnv(t *testing.T, tune func(*Config)) *shieldEnv {
	t.Helper()
	e := newShieldEnvUnlearned(t, tune)
	e.learn()
	return e
}

// learn has the gateway learn the protocol versions, so every count after
// it is the work under test; the panel's counts start again from zero.
func (e *shieldEnv) learn() {
	e.t.Helper()
	if r := e.do("GET", "/meta", "admin", adminPass, nil, ""); r.StatusCode != http.StatusOK {
		e.t.Fatalf("GET /meta: %d %s", r.StatusCode, r.body)
	}
	e.lc.packets.Store(0)
	e.lc.failed.Store(0)
}

// replica is another gateway (another replica) built with tune, in front of
// the same counted simulator and on the same clock; it has not learned the
// protocol versions yet.
func (e *shieldEnv) replica(tune func(*Config)) *shieldEnv {
	e.t.Helper()
	reg := prometheus.NewRegistry()
	cfg := Config{
		Upstream: upstream.Config{BaseURL: e.simURL, Timeout: 5 * time.Second, Concurrency: 8, Queue: 64},
		Logger:   zap.NewNop(), Registry: reg, DescriptorTTL: time.Hour, Now: e.clock.Now,
	}
	if tune != nil {
		tune(&cfg)
	}
	gw, err := New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	srv := httptest.NewServer(gw.Handler())
	e.t.Cleanup(srv.Close)
	c := *e
	c.gw, c.srv, c.reg = gw, srv, reg
	return &c
}

// newShieldEnvUnlearned is newShieldEnv without learning the protocol versions.
func newShieldEnvUnlearned(t *testing.T, tune func(*Config)) *shieldEnv {
	t.Helper()
	sim, err := plesksim.New(plesksim.Config{
		AdminLogin: "admin", AdminPassword: adminPass,
		Resellers: []plesksim.Account{{Login: "res1", Password: resellerPass}},
	})
	if err != nil {
		t.Fatal(err)
	}
	lc := &loginCounter{next: sim}
	simSrv := httptest.NewServer(lc)
	t.Cleanup(simSrv.Close)
	clock := newFakeClock()
	reg := prometheus.NewRegistry()
	cfg := Config{
		Upstream: upstream.Config{BaseURL: simSrv.URL, Timeout: 5 * time.Second, Concurrency: 8, Queue: 64},
		Logger:   zap.NewNop(), Registry: reg, DescriptorTTL: time.Hour, Now: clock.Now,
	}
	if tune != nil {
		tune(&cfg)
	}
	gw, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw.Handler())
	t.Cleanup(srv.Close)
	return &shieldEnv{t: t, sim: sim, simURL: simSrv.URL, lc: lc, gw: gw, srv: srv, clock: clock, reg: reg}
}

// do sends one request; xff, when set, is sent as X-Forwarded-For.
func (e *shieldEnv) do(method, path, login, password string, header http.Header, body string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if login != "" {
		req.SetBasicAuth(login, password)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return response{Response: resp, body: data}
}

func xff(addr string) http.Header { return http.Header{"X-Forwarded-For": {addr}} }

func (e *shieldEnv) decisions(d string) float64 {
	return testutil.ToFloat64(e.gw.shield.decisions.WithLabelValues(d))
}

// Credentials Plesk refused are answered 401 from memory, with Plesk's own
// code, and no packet goes, until the memory expires.
func TestShieldRemembersRefusedCredentials(t *testing.T) {
	e := newShieldEnv(t, nil)
	r := e.do("GET", "/clients", "admin", "wrong-1", nil, "")
	if r.StatusCode != http.StatusUnauthorized || e.lc.failed.Load() != 1 {
		t.Fatalf("first wrong password: %d, panel saw %d failed logins; body %s", r.StatusCode, e.lc.failed.Load(), r.body)
	}
	for i := 0; i < 50; i++ {
		r := e.do("GET", "/clients", "admin", "wrong-1", nil, "")
		if r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("repeat %d: %d %s", i, r.StatusCode, r.body)
		}
		p := r.problem(t)
		if p.PleskErrcode == nil || *p.PleskErrcode != 1001 || r.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("repeat %d: the remembered 401 lacks Plesk's code or the challenge: %s", i, r.body)
		}
	}
	if n := e.lc.packets.Load(); n != 1 {
		t.Fatalf("the same wrong password 51 times sent %d packets, want 1", n)
	}
	if got := e.decisions("refused_remembered"); got != 50 {
		t.Fatalf("refused_remembered = %v, want 50", got)
	}
	// The right password of the same login is other credentials: it goes.
	e.do("GET", "/clients", "admin", adminPass, nil, "")
	if n := e.lc.packets.Load(); n != 2 {
		t.Fatalf("the right password after a wrong one: %d packets in all, want 2", n)
	}
	// Once the memory expires, the wrong password is asked about again.
	e.clock.Advance(refusedFor + time.Second)
	e.do("GET", "/clients", "admin", "wrong-1", nil, "")
	if n := e.lc.failed.Load(); n != 2 {
		t.Fatalf("after the memory expired the panel saw %d failed logins in all, want 2", n)
	}
}

// Concurrent requests with one wrong password cost one failed login: the
// others wait for its outcome and get the remembered 401.
func TestShieldSameCredentialsJudgedOnce(t *testing.T) {
	e := newShieldEnv(t, nil)
	var wg sync.WaitGroup
	var bad atomic.Int64
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := e.do("GET", "/clients/1", "admin", "wrong-same", nil, ""); r.StatusCode != http.StatusUnauthorized {
				bad.Add(1)
			}
		}()
	}
	wg.Wait()
	if bad.Load() != 0 || e.lc.failed.Load() != 1 {
		t.Fatalf("%d answers were not 401; the panel saw %d failed logins, want 1", bad.Load(), e.lc.failed.Load())
	}
}

// Beyond the global budget: 429 with Retry-After and no packet, and the
// panel saw exactly the budget's failed logins; accepted credentials keep
// working; after a minute the budget is back.
func TestShieldGlobalBudget(t *testing.T) {
	const budget = 7
	e := newShieldEnv(t, func(c *Config) {
		c.UpstreamAuthFailuresPerMinute = budget
		c.AuthFailuresPerMinute = 1000
	})
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	var goodErrors atomic.Int64
	for i := 0; i < 60; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.do("GET", "/clients", "admin", "storm-"+strconv.Itoa(i), nil, "")
			mu.Lock()
			statuses[r.StatusCode]++
			mu.Unlock()
			if r.StatusCode == http.StatusTooManyRequests {
				p := r.problem(t)
				ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
				if !strings.HasSuffix(p.Type, "/too-many-failed-logins") || err != nil || ra < 1 || ra > 60 {
					t.Errorf("429 without its type or a sane Retry-After (%q): %s", r.Header.Get("Retry-After"), r.body)
				}
			}
		}()
		// Accepted credentials keep working throughout.
		if r := e.do("GET", "/clients", "admin", adminPass, nil, ""); r.StatusCode != http.StatusOK {
			goodErrors.Add(1)
		}
	}
	wg.Wait()
	if e.lc.failed.Load() != budget {
		t.Fatalf("the panel saw %d failed logins, want exactly the budget %d (answers %v)", e.lc.failed.Load(), budget, statuses)
	}
	if statuses[http.StatusUnauthorized] != budget || statuses[http.StatusTooManyRequests] != 60-budget {
		t.Fatalf("answers %v, want %d×401 and %d×429", statuses, budget, 60-budget)
	}
	if goodErrors.Load() != 0 {
		t.Fatalf("accepted credentials got %d errors during the storm", goodErrors.Load())
	}
	if got := e.decisions("limited_upstream"); got != float64(60-budget) {
		t.Fatalf("limited_upstream = %v, want %d", got, 60-budget)
	}
	// New credentials are refused too while the budget is spent, even right ones: nothing is known of them.
	if r := e.do("GET", "/clients", "res1", resellerPass, nil, ""); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("new credentials during the storm: %d, want 429", r.StatusCode)
	}
	// A minute later the budget is whole again.
	e.clock.Advance(time.Minute)
	for i := 0; i < budget; i++ {
		if r := e.do("GET", "/clients", "admin", "later-"+strconv.Itoa(i), nil, ""); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("after a minute, wrong password %d: %d, want 401", i, r.StatusCode)
		}
	}
	if r := e.do("GET", "/clients", "admin", "later-x", nil, ""); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("past the refilled budget: %d, want 429", r.StatusCode)
	}
	if e.lc.failed.Load() != 2*budget {
		t.Fatalf("the panel saw %d failed logins in all, want %d", e.lc.failed.Load(), 2*budget)
	}
}

// Logins Plesk accepts give their token back: any number of new, right
// credentials pass (one after another), and spend nothing.
func TestShieldAcceptedLoginsSpendNothing(t *testing.T) {
	e := newShieldEnv(t, func(c *Config) { c.UpstreamAuthFailuresPerMinute, c.AuthFailuresPerMinute = 2, 2 })
	for i := 0; i < 10; i++ {
		login := "cl" + strconv.Itoa(i)
		body := fmt.Sprintf(`{"name":"C %d","login":%q,"password":"Pw-%s-123"}`, i, login, login)
		if r := e.do("POST", "/clients", "admin", adminPass, nil, body); r.StatusCode != http.StatusCreated {
			t.Fatalf("create %s: %d %s", login, r.StatusCode, r.body)
		}
	}
	// Each client logs in for the first time: Plesk accepts (and refuses
	// the operation with 1006), so no token is spent.
	budgeted := e.decisions("budgeted")
	for i := 0; i < 10; i++ {
		login := "cl" + strconv.Itoa(i)
		if r := e.do("GET", "/clients", login, "Pw-"+login+"-123", nil, ""); r.StatusCode != http.StatusForbidden {
			t.Fatalf("client %s: %d %s", login, r.StatusCode, r.body)
		}
	}
	if got := e.decisions("budgeted") - budgeted; got != 10 {
		t.Fatalf("budgeted = %v, want 10", got)
	}
	if r := e.do("GET", "/clients", "admin", "wrong", nil, ""); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the budget should be whole: %d", r.StatusCode)
	}
}

// The per-address budget: X-Forwarded-For names the caller only when the
// peer is a trusted proxy.
func TestShieldPerAddressBudgetAndTrustedProxies(t *testing.T) {
	const perAddr = 3
	t.Run("untrusted peer: X-Forwarded-For ignored", func(t *testing.T) {
		e := newShieldEnv(t, func(c *Config) { c.AuthFailuresPerMinute = perAddr })
		for i := 0; i < 10; i++ {
			r := e.do("GET", "/clients", "admin", "w"+strconv.Itoa(i), xff("198.51.100."+strconv.Itoa(i)), "")
			want := http.StatusUnauthorized
			if i >= perAddr {
				want = http.StatusTooManyRequests
			}
			if r.StatusCode != want {
				t.Fatalf("request %d: %d, want %d (a forged X-Forwarded-For must not buy a new budget)", i, r.StatusCode, want)
			}
		}
		if e.lc.failed.Load() != perAddr || e.decisions("limited_address") != 10-perAddr {
			t.Fatalf("the panel saw %d failed logins, want %d", e.lc.failed.Load(), perAddr)
		}
	})
	t.Run("trusted proxy: each forwarded address has its budget", func(t *testing.T) {
		trusted, err := ParseTrustedProxies("127.0.0.0/8, ::1")
		if err != nil {
			t.Fatal(err)
		}
		e := newShieldEnv(t, func(c *Config) {
			c.AuthFailuresPerMinute, c.UpstreamAuthFailuresPerMinute, c.TrustedProxies = perAddr, 1000, trusted
		})
		statuses := map[string]map[int]int{}
		for _, addr := range []string{"198.51.100.1", "198.51.100.2"} {
			statuses[addr] = map[int]int{}
			for i := 0; i < 6; i++ {
				// The left-most hop is the caller's own claim: it changes every time and must not matter.
				h := xff(fmt.Sprintf("203.0.113.%d, %s", i, addr))
				r := e.do("GET", "/clients", "admin", addr+"-"+strconv.Itoa(i), h, "")
				statuses[addr][r.StatusCode]++
			}
		}
		for addr, st := range statuses {
			if st[http.StatusUnauthorized] != perAddr || st[http.StatusTooManyRequests] != 6-perAddr {
				t.Fatalf("%s: answers %v, want %d×401 and %d×429", addr, st, perAddr, 6-perAddr)
			}
		}
		if e.lc.failed.Load() != 2*perAddr {
			t.Fatalf("the panel saw %d failed logins, want %d", e.lc.failed.Load(), 2*perAddr)
		}
	})
}

func TestCallerAddress(t *testing.T) {
	trusted, err := ParseTrustedProxies("10.0.0.0/8,192.0.2.7")
	if err != nil {
		t.Fatal(err)
	}
	sh := &shield{trusted: trusted}
	for _, c := range []struct {
		peer string
		xff  []string
		want string
	}{
		{"198.51.100.9:1234", nil, "198.51.100.9"},
		{"198.51.100.9:1234", []string{"203.0.113.1"}, "198.51.100.9"}, // untrusted peer: header ignored
		{"10.1.2.3:80", []string{"203.0.113.1"}, "203.0.113.1"},
		{"10.1.2.3:80", []string{"1.1.1.1, 203.0.113.1, 10.9.9.9"}, "203.0.113.1"}, // right-most untrusted
		{"10.1.2.3:80", []string{"1.1.1.1", "203.0.113.1, 192.0.2.7"}, "203.0.113.1"},
		{"10.1.2.3:80", []string{"10.4.4.4"}, "10.4.4.4"},                    // all trusted: the left-most
		{"10.1.2.3:80", []string{"garbage, 10.4.4.4"}, "10.4.4.4"},           // unreadable: stop at the last trusted
		{"10.1.2.3:80", []string{"203.0.113.1:5555"}, "203.0.113.1"},         // hop with a port
		{"10.1.2.3:80", nil, "10.1.2.3"},                                     // no header: the proxy itself
		{"[2001:db8:1:2:3:4:5:6]:443", nil, "2001:db8:1:2::"},                // IPv6 per /64
		{"10.1.2.3:80", []string{"[2001:db8::1]:80"}, "2001:db8::"},          // bracketed IPv6 hop
		{"[::ffff:198.51.100.9]:1", []string{"203.0.113.1"}, "198.51.100.9"}, // v4-mapped peer
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := sh.callerAddress(r); got != netip.MustParseAddr(c.want) {
			t.Errorf("peer %s, X-Forwarded-For %q: %v, want %s", c.peer, c.xff, got, c.want)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "not-an-ip", "10.0.0.0/8,,nope/8"} {
		if _, err := ParseTrustedProxies(bad); err == nil {
			t.Errorf("ParseTrustedProxies(%q) accepted it", bad)
		}
	}
	if ps, err := ParseTrustedProxies(""); err != nil || len(ps) != 0 {
		t.Fatalf("empty: %v %v", ps, err)
	}
}

// The memories and the per-address budgets are bounded: strangers can
// fill the refused memory and the addresses, never the accepted memory.
func TestShieldBounded(t *testing.T) {
	clock := newFakeClock()
	sh := newShield(Config{Now: clock.Now, AuthFailuresPerMinute: 1000000, UpstreamAuthFailuresPerMinute: 1000000}, "",
		shieldLimits{refused: 50, accepted: 20, addresses: 30}, prometheus.NewRegistry())
	sh.settle(t.Context(), mustAdmit(t, sh, "good", netip.MustParseAddr("192.0.2.1")), loginAccepted, refusal{}, 1)
	for i := 0; i < 1000; i++ {
		addr := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		sh.settle(t.Context(), mustAdmit(t, sh, "bad-"+strconv.Itoa(i), addr), loginRefused, refusal{code: 1001}, 1)
	}
	if sh.refused.Len() != 50 || sh.addrs.Len() != 30 || len(sh.verifying) != 0 {
		t.Fatalf("refused %d (bound 50), addresses %d (bound 30), verifying %d", sh.refused.Len(), sh.addrs.Len(), len(sh.verifying))
	}
	if !sh.acceptedWithin("good", time.Minute) {
		t.Fatal("a storm of refusals pushed an accepted login out")
	}
	for i := 0; i < 100; i++ {
		sh.settle(t.Context(), mustAdmit(t, sh, "ok-"+strconv.Itoa(i), netip.MustParseAddr("192.0.2.1")), loginAccepted, refusal{}, 1)
	}
	if sh.accepted.Len() != 20 {
		t.Fatalf("accepted %d, bound 20", sh.accepted.Len())
	}
	if got := testutil.ToFloat64(sh.addressesGau); got != 30 {
		t.Fatalf("address gauge %v, want 30", got)
	}
}

func mustAdmit(t *testing.T, sh *shield, id string, addr netip.Addr) ticket {
	t.Helper()
	tk, wait, err := sh.admit(t.Context(), id, addr)
	if err != nil || wait != nil {
		t.Fatalf("admit %s: %v %v", id, wait, err)
	}
	return tk
}

// PLESKGATE_AUTH_RECHECK: a cached descriptor answer goes only to
// credentials Plesk accepted within the window; after it, one check packet
// goes first, and a password changed in the panel gets 401.
func TestAuthRecheckDescriptor(t *testing.T) {
	e := newShieldEnv(t, func(c *Config) { c.AuthRecheck = 30 * time.Second })
	get := func() response { return e.do("GET", "/descriptors/limits", "res1", resellerPass, nil, "") }
	if r := get(); r.StatusCode != http.StatusOK || !strings.Contains(r.Header.Get("Cache-Status"), "stored") {
		t.Fatalf("first read: %d %s %s", r.StatusCode, r.Header.Get("Cache-Status"), r.body)
	}
	// Within the window: from the cache, no packet.
	before := e.lc.packets.Load()
	e.clock.Advance(20 * time.Second)
	if r := get(); r.StatusCode != http.StatusOK || !strings.Contains(r.Header.Get("Cache-Status"), "hit") {
		t.Fatalf("cached read: %d %s", r.StatusCode, r.Header.Get("Cache-Status"))
	}
	if e.lc.packets.Load() != before {
		t.Fatal("a cached read within the window sent a packet")
	}
	// Past the window, the password still right: one check packet, then the cached answer.
	e.clock.Advance(20 * time.Second)
	if r := get(); r.StatusCode != http.StatusOK || !strings.Contains(r.Header.Get("Cache-Status"), "hit") {
		t.Fatalf("rechecked read: %d %s", r.StatusCode, r.body)
	}
	if n := e.lc.packets.Load() - before; n != 1 {
		t.Fatalf("the recheck sent %d packets, want 1", n)
	}
	// The panel changes the password; within the window the cache still answers.
	if !e.sim.SetPassword("res1", "changed-pass-1") {
		t.Fatal("no res1")
	}
	e.clock.Advance(31 * time.Second)
	r := get()
	if r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a cached answer to a now-wrong password after the window: %d %s", r.StatusCode, r.body)
	}
	if p := r.problem(t); p.PleskErrcode == nil || *p.PleskErrcode != 1001 {
		t.Fatalf("401 without Plesk's code: %s", r.body)
	}
	if got := testutil.ToFloat64(e.gw.shield.rechecks.WithLabelValues("refused")); got != 1 {
		t.Fatalf("recheck refused = %v, want 1", got)
	}
	// And the new password works.
	if r := e.do("GET", "/descriptors/limits", "res1", "changed-pass-1", nil, ""); r.StatusCode != http.StatusOK {
		t.Fatalf("new password: %d %s", r.StatusCode, r.body)
	}
}

// The same for idempotent replays.
func TestAuthRecheckReplay(t *testing.T) {
	e := newShieldEnv(t, func(c *Config) { c.AuthRecheck = 30 * time.Second })
	body := `{"name":"Replay","login":"replay1","password":"Pw-replay-123"}`
	post := func() response {
		return e.do("POST", "/clients", "admin", adminPass, http.Header{"Idempotency-Key": {"k-1"}}, body)
	}
	if r := post(); r.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", r.StatusCode, r.body)
	}
	before := e.lc.packets.Load()
	if r := post(); r.StatusCode != http.StatusCreated || r.Header.Get("Idempotent-Replayed") != "true" || e.lc.packets.Load() != before {
		t.Fatalf("replay within the window: %d, %d packets", r.StatusCode, e.lc.packets.Load()-before)
	}
	e.sim.SetPassword("admin", "changed-admin-1")
	e.clock.Advance(31 * time.Second)
	if r := post(); r.StatusCode != http.StatusUnauthorized || r.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("replay to a now-wrong password after the window: %d %s", r.StatusCode, r.body)
	}
}

func TestLoginResultOf(t *testing.T) {
	for _, c := range []struct {
		packets   int32
		code      int // 0: none
		status    int
		httpError bool // the panel answered a bare HTTP error status
		want      loginResult
	}{
		{1, 1001, 401, false, loginRefused},
		{0, 1001, 401, false, loginRefused}, // shared the refused answer of a coalesced packet
		{1, 11003, 401, false, loginRefused},
		{1, 1029, 401, false, loginRefused},
		{0, 1014, 501, false, loginNotAsked}, // a remembered legacy refusal: no packet, nothing judged
		{1, 1013, 404, false, loginAccepted},
		{1, 1006, 403, false, loginAccepted},
		{2, 0, 200, false, loginAccepted},
		{1, 0, 304, false, loginAccepted},
		{0, 0, 200, false, loginNotAsked}, // a cache hit
		{1, 0, 503, false, loginUnknown},  // refused or reset connection
		{1, 0, 504, false, loginUnknown},  // a timeout spends: Plesk may have refused the login before the answer was lost
		{1, 0, 499, false, loginUnknown},
		{1, 0, 401, false, loginUnknown},
		{1, 0, 502, true, loginHTTPError}, // the panel answered HTTP 413 or 5xx: no login judged
		{3, 0, 502, true, loginHTTPError}, // … also after retries
		{1, 1001, 401, true, loginRefused},
		{0, 0, 503, true, loginNotAsked},
	} {
		st := &reqState{}
		st.packets.Store(c.packets)
		if c.code != 0 {
			st.errcode, st.hasErrcode = c.code, true
		}
		if got := loginResultOf(st, c.status, c.httpError); got != c.want {
			t.Errorf("packets %d, errcode %d, status %d: %v, want %v", c.packets, c.code, c.status, got, c.want)
		}
	}
}

// A request whose unproven credentials went to the panel in several packets
// (a read retried after a broken connection) spends a token per packet:
// the panel may have counted each as a failed login.
func TestShieldSpendsEveryPacket(t *testing.T) {
	const budget = 5
	clock := newFakeClock()
	sh := newShield(Config{Now: clock.Now, AuthFailuresPerMinute: 1000, UpstreamAuthFailuresPerMinute: budget}, "",
		shieldLimits{}, prometheus.NewRegistry())
	addr := netip.MustParseAddr("192.0.2.1")
	sh.settle(t.Context(), mustAdmit(t, sh, "retried", addr), loginUnknown, refusal{}, 3)
	for i := 0; i < budget-3; i++ {
		sh.settle(t.Context(), mustAdmit(t, sh, "wrong-"+strconv.Itoa(i), addr), loginRefused, refusal{code: 1001}, 1)
	}
	if _, _, err := sh.admit(t.Context(), "one-too-many", addr); err == nil {
		t.Fatalf("after %d packets with unproven credentials a budget of %d let one more through", budget, budget)
	}
	// Also past the burst: 3 packets against a per-address budget of 2.
	sh = newShield(Config{Now: clock.Now, AuthFailuresPerMinute: 2, UpstreamAuthFailuresPerMinute: 1000}, "",
		shieldLimits{}, prometheus.NewRegistry())
	sh.settle(t.Context(), mustAdmit(t, sh, "retried", addr), loginUnknown, refusal{}, 3)
	clock.Advance(30 * time.Second) // one token back: still a debt of 0
	if _, _, err := sh.admit(t.Context(), "next", addr); err == nil {
		t.Fatal("3 packets against a per-address budget of 2 left a token free 30 s later")
	}
}

// storm sends n requests with n different wrong passwords for admin,
// workers at a time, the i-th to envs[i%len(envs)], and counts the answers
// by status.
func storm(t *testing.T, n, workers int, prefix string, envs ...*shieldEnv) map[int]int {
	t.Helper()
	var mu sync.Mutex
	statuses := map[int]int{}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				r := envs[i%len(envs)].do("GET", "/clients", "admin", prefix+strconv.Itoa(i), nil, "")
				mu.Lock()
				statuses[r.StatusCode]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return statuses
}

// sharedBudgets configures a replica on the Redis at url with the given
// budgets (DESIGN.md §7, "Shared bounds are shared").
func sharedBudgets(t *testing.T, url string, global, perAddr int) func(*Config) {
	return func(c *Config) {
		c.Cache, c.Idempotency = newRedisStoresT(t, url)
		c.StateSecret = replicaSecret
		c.UpstreamAuthFailuresPerMinute, c.AuthFailuresPerMinute = global, perAddr
	}
}

// Two replicas on one Redis: the failed logins that reach the panel stay
// within one budget, not one per replica (issue 26, medium 5: 72 against 30).
func TestShieldBudgetsSharedAcrossReplicas(t *testing.T) {
	t.Run("global budget", func(t *testing.T) {
		const budget = 6
		r := storetest.StartRedis(t)
		a := newShieldEnv(t, sharedBudgets(t, r.URL(), budget, 1000))
		b := a.replica(sharedBudgets(t, r.URL(), budget, 1000))
		b.learn()
		st := storm(t, 40, 8, "wrong-", a, b)
		if got := a.lc.failed.Load(); got != budget || st[http.StatusUnauthorized] != budget || st[http.StatusTooManyRequests] != 40-budget {
			t.Fatalf("two replicas let %d failed logins reach the panel, want the budget %d (answers %v)", got, budget, st)
		}
		// Accepted credentials keep working on both; a minute later the budget is whole again.
		for _, e := range []*shieldEnv{a, b} {
			if r := e.do("GET", "/clients", "admin", adminPass, nil, ""); r.StatusCode != http.StatusOK {
				t.Fatalf("accepted credentials during the storm: %d %s", r.StatusCode, r.body)
			}
		}
		a.clock.Advance(time.Minute + time.Second)
		st = storm(t, 20, 4, "later-", a, b)
		if got := a.lc.failed.Load(); got != 2*budget || st[http.StatusUnauthorized] != budget {
			t.Fatalf("after a minute: %d failed logins in all, want %d (answers %v)", got, 2*budget, st)
		}
	})
	t.Run("per-address budget", func(t *testing.T) {
		const perAddr = 3
		r := storetest.StartRedis(t)
		a := newShieldEnv(t, sharedBudgets(t, r.URL(), 1000, perAddr))
		b := a.replica(sharedBudgets(t, r.URL(), 1000, perAddr))
		b.learn()
		st := storm(t, 20, 4, "wrong-", a, b)
		if got := a.lc.failed.Load(); got != perAddr || st[http.StatusTooManyRequests] != 20-perAddr {
			t.Fatalf("one address through two replicas: %d failed logins, want %d (answers %v)", got, perAddr, st)
		}
		// The budget's key is an HMAC under the state secret: no address in Redis.
		keys, err := r.Client().Keys(t.Context(), "*").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if strings.Contains(k, "127.0.0.1") || strings.Contains(k, "admin") {
				t.Fatalf("a Redis key names the caller: %q", k)
			}
		}
	})
	t.Run("Redis down: each replica keeps its own budget", func(t *testing.T) {
		const budget = 4
		r := storetest.StartRedis(t)
		a := newShieldEnv(t, sharedBudgets(t, r.URL(), budget, 1000))
		b := a.replica(sharedBudgets(t, r.URL(), budget, 1000))
		b.learn()
		r.Kill()
		st := storm(t, 30, 4, "wrong-", a, b)
		if got := a.lc.failed.Load(); got > 2*budget || st[http.StatusUnauthorized]+st[http.StatusTooManyRequests] != 30 {
			t.Fatalf("Redis down: %d failed logins (bound %d per replica), answers %v", got, budget, st)
		}
		if r := a.do("GET", "/clients", "admin", adminPass, nil, ""); r.StatusCode != http.StatusOK {
			t.Fatalf("accepted credentials with Redis down: %d %s", r.StatusCode, r.body)
		}
		errs := testutil.ToFloat64(a.gw.shield.sharedErrors) + testutil.ToFloat64(b.gw.shield.sharedErrors)
		if errs < 1 {
			t.Fatal("Redis down, and pleskgate_auth_shield_shared_errors_total says nothing")
		}
		t.Logf("30 requests with Redis down asked it %v times (a replica pauses %v after an error)", errs, sharedPause)
	})
}

// Before the panel's versions are learned, the get_protos every request
// needs is shared: when it fails, its own leader must not send it again
// (issue 26, medium 5: 39 failed logins against 30).
func TestShieldCountsEveryPacketBeforeVersionsLearned(t *testing.T) {
	const budget = 5
	e := newShieldEnvUnlearned(t, func(c *Config) { c.UpstreamAuthFailuresPerMinute, c.AuthFailuresPerMinute = budget, 1000 })
	e.lc.delay.Store(int64(40 * time.Millisecond)) // followers gather behind each shared ask
	st := storm(t, 40, 20, "wrong-", e)
	if got := e.lc.failed.Load(); got > budget {
		t.Fatalf("the panel saw %d failed logins against a budget of %d (answers %v)", got, budget, st)
	}
}

// A panel incident (HTTP 413 or 5xx to every packet) is not a failed login:
// once the panel recovers, an administrator it never accepted before is not
// locked out (issue 26, medium 6).
func TestShieldPanelIncidentIsNotAFailedLogin(t *testing.T) {
	for _, status := range []int{http.StatusRequestEntityTooLarge, http.StatusInternalServerError} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			e := newShieldEnv(t, func(c *Config) {
				c.AuthFailuresPerMinute, c.UpstreamAuthFailuresPerMinute = 10, 30
				c.Upstream.BreakerMinCalls = 1000 // the breaker is not under test
			})
			e.lc.status.Store(int64(status))
			for i := 0; i < 10; i++ {
				if r := e.do("GET", "/clients", "res1", resellerPass, nil, ""); r.StatusCode < 500 {
					t.Fatalf("read %d during the incident: %d %s", i, r.StatusCode, r.body)
				}
			}
			e.lc.status.Store(0)
			if r := e.do("GET", "/clients", "res1", resellerPass, nil, ""); r.StatusCode != http.StatusOK {
				t.Fatalf("the first read after the panel recovered: %d %s", r.StatusCode, r.body)
			}
			if got := testutil.ToFloat64(e.gw.shield.logins.WithLabelValues("unknown")); got != 0 {
				t.Fatalf("the incident's answers were counted as %v unknown logins", got)
			}
		})
	}
}

// stubBudgets answers every call with err.
type stubBudgets struct{ err error }

func (b stubBudgets) Hold(context.Context, string, []store.Budget, time.Time, time.Duration) (int, time.Duration, error) {
	return 0, 0, b.err
}
func (b stubBudgets) Spend(context.Context, string, int, []string, time.Time, time.Duration) error {
	return b.err
}
func (b stubBudgets) Release(context.Context, string, []string) error { return b.err }

// A caller that hangs up while Redis is asked is not a Redis failure: it
// must not switch the shared budgets off for everyone.
func TestShieldCallerLeavingIsNotARedisFailure(t *testing.T) {
	sh := newShield(Config{}, "", shieldLimits{}, prometheus.NewRegistry())
	sh.shared = stubBudgets{err: context.Canceled}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := sh.admit(ctx, "leaving", netip.MustParseAddr("192.0.2.1")); err == nil {
		t.Fatal("admitted a caller that left")
	}
	if got := testutil.ToFloat64(sh.sharedErrors); got != 0 || sh.sharedDown.Load() != 0 || len(sh.verifying) != 0 {
		t.Fatalf("shared errors %v, paused until %d, verifying %d", got, sh.sharedDown.Load(), len(sh.verifying))
	}
	// A real Redis failure: the request goes on, on this replica's budgets.
	sh.shared = stubBudgets{err: errors.New("dial tcp: connection refused")}
	tk := mustAdmit(t, sh, "staying", netip.MustParseAddr("192.0.2.1"))
	if tk.unit != "" || testutil.ToFloat64(sh.sharedErrors) != 1 || sh.sharedDown.Load() == 0 {
		t.Fatalf("Redis failing: unit %q, errors %v", tk.unit, testutil.ToFloat64(sh.sharedErrors))
	}
}

// One panel has one shared failed-login budget however its URL is spelt:
// with a trailing slash or without, it is the same panel (the same
// endpoint the other shared state is keyed by), and two budgets would let
// twice the failed logins through. (cmd/pleskgate strips a pasted agent
// path before the URL gets here.)
func TestShieldBudgetKeyedByPanelNotSpelling(t *testing.T) {
	secret := []byte("a state secret of at least 32 bytes!")
	prefix := func(base string) string {
		srv, err := New(Config{Logger: zap.NewNop(), StateSecret: secret, Upstream: upstream.Config{BaseURL: base}})
		if err != nil {
			t.Fatal(err)
		}
		return srv.shield.sharedPrefix
	}
	want := prefix("https://panel:8443")
	for _, base := range []string{"https://panel:8443/", "https://panel:8443//"} {
		if got := prefix(base); got != want {
			t.Errorf("%s: budget prefix %q, want %q (https://panel:8443's)", base, got, want)
		}
	}
	if other := prefix("https://other:8443"); other == want {
		t.Errorf("two panels share the budget prefix %q", other)
	}
}
