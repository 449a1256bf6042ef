package gateway

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/pleskgate/pleskgate/gateway/upstream"
	"github.com/pleskgate/pleskgate/plesksim"
)

// The fault matrix: every way the upstream can fail, the status the gateway
// documents for it (DESIGN.md §3, gateway/errors.go), a problem+json body, no
// panic, and no goroutine left behind.

// relFaultGW is a gateway with its own upstream transport, so the test can
// close the transport's idle connections before looking for leaked goroutines.
type relFaultGW struct {
	t    *testing.T
	gw   *Server
	tr   *http.Transport
	logs *observer.ObservedLogs
}

type relFaultOpt func(*upstream.Config, *Config)

func relNewFaultGW(t *testing.T, baseURL string, timeout time.Duration, opts ...relFaultOpt) *relFaultGW {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	core, logs := observer.New(zap.DebugLevel)
	ucfg := upstream.Config{BaseURL: baseURL, Timeout: timeout, HTTPClient: &http.Client{Transport: tr},
		RetryInitial: 10 * time.Millisecond, BreakerFailures: 1000, BreakerOpenFor: time.Hour}
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
	g := &relFaultGW{t: t, gw: gw, tr: tr, logs: logs}
	t.Cleanup(tr.CloseIdleConnections)
	return g
}

// do runs one request as the administrator and checks the invariants every
// failure must meet; it returns the problem.
func (g *relFaultGW) do(method, path, body string, want int) Problem {
	g.t.Helper()
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
	return relCheckProblem(g.t, rec.Code, rec.Header(), rec.Body.Bytes(), what)
}

// status runs one request and returns its status only.
func (g *relFaultGW) status(method, path, body string) int {
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
	return rec.Code
}

// relKnownBug fails on a bug this suite once found in non-test code (all
// since fixed); the message says what went wrong and how it was fixed.
func relKnownBug(t *testing.T, msg string) {
	t.Helper()
	t.Fatal("regression of a bug found by the reliability suite: " + msg)
}

// relSim serves a plesksim over loopback HTTP.
func relSim(t *testing.T) (*plesksim.Server, *httptest.Server) {
	t.Helper()
	sim, err := plesksim.New(plesksim.Config{AdminLogin: "admin", AdminPassword: adminPass})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv
}

// relRawUpstream accepts connections and hands each to serve after reading
// the request head and body, so a test controls every byte of the answer.
type relRawUpstream struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func relNewRawUpstream(t *testing.T, serve func(c net.Conn, r *http.Request)) *relRawUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &relRawUpstream{ln: ln}
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

func (u *relRawUpstream) url() string { return "http://" + u.ln.Addr().String() }

func (u *relRawUpstream) close() {
	_ = u.ln.Close()
	u.mu.Lock()
	for _, c := range u.conns {
		_ = c.Close()
	}
	u.mu.Unlock()
	u.wg.Wait()
}

const relProtosAnswer = `<packet version="1.6.9.1"><server><get_protos><result><status>ok</status><protos><proto>1.6.0.2</proto><proto>1.6.9.1</proto></protos></result></get_protos></server></packet>`

func relSystemError(code int) string {
	return fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><packet version="1.6.9.1"><system><status>error</status><errcode>%d</errcode><errtext>simulated &lt;error&gt; %d</errtext></system></packet>`, code, code)
}

// relIgnoreLRU ignores the TTL goroutine of hashicorp/golang-lru/v2's
// expirable LRU: every gateway.New starts two (descriptor cache, idempotency
// store) that never end, as the library documents ("done channel is never
// closed"). Reported as a finding; one per gateway, not per request.
var relIgnoreLRU = goleak.IgnoreAnyFunction("github.com/hashicorp/golang-lru/v2/expirable.NewLRU[...].func1")

func TestReliabilityFaultMatrix(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), relIgnoreLRU)

	t.Run("timeout is 504", func(t *testing.T) {
		sim, srv := relSim(t)
		g := relNewFaultGW(t, srv.URL, 500*time.Millisecond)
		g.do("GET", "/meta", "", http.StatusOK)
		sim.SetFaults(plesksim.Faults{Latency: 10 * time.Second})
		start := time.Now()
		p := g.do("GET", "/clients", "", http.StatusGatewayTimeout)
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("504 after %v: timeouts must not be retried into a long wait", d)
		}
		if !strings.HasSuffix(p.Type, "/upstream-timeout") {
			t.Fatalf("type %q", p.Type)
		}
		g.do("POST", "/clients", `{"name":"n","login":"late","password":"pw-12345"}`, http.StatusGatewayTimeout)
	})

	t.Run("connection refused is 503", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		g := relNewFaultGW(t, "http://"+addr, time.Second)
		p := g.do("GET", "/clients", "", http.StatusServiceUnavailable)
		if !strings.HasSuffix(p.Type, "/upstream-unavailable") {
			t.Fatalf("type %q", p.Type)
		}
		g.do("POST", "/clients", `{"name":"n","login":"x","password":"pw-12345"}`, http.StatusServiceUnavailable)
	})

	t.Run("unresolvable host is 503", func(t *testing.T) {
		g := relNewFaultGW(t, "http://pleskgate-no-such-host.invalid", time.Second)
		g.do("GET", "/clients", "", http.StatusServiceUnavailable)
	})

	// plesksim's faults: FaultReset and FaultMalformed/FaultTruncated strike
	// after the packet ran, FaultHTTP500 and FaultDrop before.
	for _, c := range []struct {
		kind plesksim.FaultKind
		want int
	}{
		{plesksim.FaultReset, http.StatusBadGateway},     // headers, half the body, close
		{plesksim.FaultMalformed, http.StatusBadGateway}, // not well-formed XML
		{plesksim.FaultTruncated, http.StatusBadGateway}, // complete HTTP message, XML cut in half
		{plesksim.FaultHTTP500, http.StatusBadGateway},   // HTTP 500
		{plesksim.FaultDrop, http.StatusServiceUnavailable},
	} {
		t.Run(string(c.kind), func(t *testing.T) {
			sim, srv := relSim(t)
			g := relNewFaultGW(t, srv.URL, 2*time.Second)
			g.do("GET", "/meta", "", http.StatusOK)
			sim.SetFaults(plesksim.Faults{Kind: c.kind, Rate: 1})
			g.do("GET", "/clients", "", c.want)
			g.do("GET", "/clients/2", "", c.want)
			sim.ResetStats()
			g.do("POST", "/clients", `{"name":"n","login":"faulty","password":"pw-12345"}`, c.want)
			if n := sim.Stats().Requests; n != 1 {
				t.Fatalf("a write was sent %d times: writes must never be retried", n)
			}
			sim.SetFaults(plesksim.Faults{})
			// FaultHTTP500 and FaultDrop strike before the packet runs: nothing was created.
			created := len(sim.Clients()) == 1
			if before := c.kind == plesksim.FaultHTTP500 || c.kind == plesksim.FaultDrop; created == before {
				t.Fatalf("%s: client created=%v", c.kind, created)
			}
		})
	}

	t.Run("reads are retried after HTTP 500", func(t *testing.T) {
		sim, srv := relSim(t)
		g := relNewFaultGW(t, srv.URL, 2*time.Second)
		g.do("GET", "/meta", "", http.StatusOK)
		sim.SetFaults(plesksim.Faults{Kind: plesksim.FaultHTTP500, Rate: 1})
		sim.ResetStats()
		g.do("GET", "/clients", "", http.StatusBadGateway)
		if n := sim.Stats().Requests; n != 3 {
			t.Fatalf("a read after HTTP 500 was sent %d times, want 3 (RetryMax 2)", n)
		}
	})

	// A raw upstream: the answer's head, then the connection closed with a
	// TCP RST (SO_LINGER 0) halfway through the body.
	t.Run("TCP reset mid-body is 502", func(t *testing.T) {
		var packets atomic.Int32
		u := relNewRawUpstream(t, func(c net.Conn, r *http.Request) {
			packet, _ := io.ReadAll(r.Body)
			body := relProtosAnswer
			if bytes.Contains(packet, []byte("get_protos")) {
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
				return
			}
			packets.Add(1)
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:len(body)/2])
			time.Sleep(20 * time.Millisecond)
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // close with RST
			}
			_ = c.Close()
		})
		g := relNewFaultGW(t, u.url(), 2*time.Second)
		g.do("GET", "/meta", "", http.StatusOK)
		packets.Store(0)
		st := g.status("POST", "/clients", `{"name":"n","login":"rst","password":"pw-12345"}`)
		if n := packets.Load(); n != 1 {
			t.Fatalf("a write was sent %d times", n)
		}
		if st == http.StatusServiceUnavailable {
			relKnownBug(t, "a TCP reset after Plesk's answer began is classified upstream.Unavailable (503 \"Plesk is unreachable\", "+
				"and retried for reads) instead of a broken answer (502), though the packet reached Plesk and may have run: "+
				"Upstream.post passes body-read errors to classifyTransport, which treats only io.ErrUnexpectedEOF as a broken answer")
		}
		g.do("POST", "/clients", `{"name":"n","login":"rst","password":"pw-12345"}`, http.StatusBadGateway)
		g.do("GET", "/clients", "", http.StatusBadGateway)
	})

	// A slow drip: the whole answer, one byte every 100 ms, bounded by the
	// upstream timeout.
	for _, headFirst := range []bool{false, true} {
		name := "slow drip of the whole answer is 504"
		if headFirst {
			name = "slow drip of the body is 504"
		}
		t.Run(name, func(t *testing.T) {
			stop := make(chan struct{})
			defer close(stop)
			u := relNewRawUpstream(t, func(c net.Conn, r *http.Request) {
				body := relProtosAnswer
				msg := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n", len(body))
				if headFirst {
					_, _ = io.WriteString(c, msg)
					msg = ""
				}
				msg += body
				for i := 0; i < len(msg); i++ {
					if _, err := c.Write([]byte{msg[i]}); err != nil {
						return
					}
					select {
					case <-stop:
						return
					case <-time.After(100 * time.Millisecond):
					}
				}
			})
			g := relNewFaultGW(t, u.url(), 500*time.Millisecond)
			start := time.Now()
			g.do("GET", "/clients", "", http.StatusGatewayTimeout)
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("the drip held the request %v", d)
			}
		})
	}

	t.Run("oversize answer is 502", func(t *testing.T) {
		u := relNewRawUpstream(t, func(c net.Conn, r *http.Request) {
			body := relProtosAnswer + strings.Repeat(" ", 4096)
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
		})
		g := relNewFaultGW(t, u.url(), time.Second, func(u *upstream.Config, _ *Config) { u.MaxBodySize = 1024 })
		g.do("GET", "/clients", "", http.StatusBadGateway)
	})

	t.Run("not XML at all is 502", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, "<html><body>502 Bad Gateway (nginx)</body></html>")
		}))
		defer srv.Close()
		g := relNewFaultGW(t, srv.URL, time.Second)
		g.do("GET", "/clients", "", http.StatusBadGateway)
	})

	// Every <system> error code, answered to every packet (get_protos
	// included), maps to the status of the one table in errors.go.
	for _, c := range []struct{ code, want int }{
		{1001, http.StatusUnauthorized},
		{1005, http.StatusBadGateway},
		{1006, http.StatusForbidden},
		{1010, http.StatusForbidden},
		{1011, http.StatusForbidden},
		{1014, http.StatusBadGateway},
		{1017, http.StatusNotImplemented},
		{1029, http.StatusUnauthorized},
		{11003, http.StatusUnauthorized},
		{1003, http.StatusServiceUnavailable},
		{1030, http.StatusServiceUnavailable},
		{4242, http.StatusBadGateway}, // unknown
	} {
		t.Run(fmt.Sprintf("system %d is %d", c.code, c.want), func(t *testing.T) {
			if got, _, _ := pleskStatus(c.code); got != c.want {
				t.Fatalf("pleskStatus(%d) = %d, documented %d", c.code, got, c.want)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/xml")
				_, _ = io.WriteString(w, relSystemError(c.code))
			}))
			defer srv.Close()
			g := relNewFaultGW(t, srv.URL, time.Second)
			for _, r := range []struct{ method, path, body string }{
				{"GET", "/clients", ""},
				{"GET", "/clients/5", ""},
				{"POST", "/clients", `{"name":"n","login":"sys","password":"pw-12345"}`},
				{"DELETE", "/clients/5", ""},
				{"GET", "/descriptors/limits", ""},
			} {
				p := g.do(r.method, r.path, r.body, c.want)
				if p.PleskErrcode == nil || *p.PleskErrcode != c.code || p.PleskErrtext == nil || !strings.Contains(*p.PleskErrtext, "<error>") {
					t.Fatalf("%s %s: problem %+v does not carry Plesk's code and text", r.method, r.path, p)
				}
			}
		})
	}

	t.Run("the breaker opens and recovers", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		const openFor = 2 * time.Second
		g := relNewFaultGW(t, "http://"+addr, time.Second, func(u *upstream.Config, _ *Config) {
			u.BreakerFailures, u.BreakerOpenFor, u.RetryMax = 3, openFor, -1
		})
		up := g.gw.upstream
		for i := 0; i < 3; i++ {
			g.do("GET", "/clients", "", http.StatusServiceUnavailable)
		}
		openedAt := time.Now() // at the latest
		if st := up.BreakerState(); st != "open" {
			t.Fatalf("breaker %s after 3 refused connections", st)
		}
		// Plesk is back, but the breaker is open: no packet reaches it.
		ln, err = net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("cannot listen on %s again: %v", addr, err)
		}
		sim, err := plesksim.New(plesksim.Config{AdminLogin: "admin", AdminPassword: adminPass})
		if err != nil {
			t.Fatal(err)
		}
		hs := &http.Server{Handler: sim}
		go func() { _ = hs.Serve(ln) }()
		defer hs.Close()
		if time.Since(openedAt) < openFor/2 { // a slow machine may already be past the open period
			p := g.do("GET", "/clients", "", http.StatusServiceUnavailable)
			if !strings.Contains(p.Detail, "circuit breaker") {
				t.Fatalf("open breaker detail %q", p.Detail)
			}
			if n := sim.Stats().Requests; n != 0 {
				t.Fatalf("%d packets passed an open breaker", n)
			}
		}
		time.Sleep(openFor - time.Since(openedAt) + 100*time.Millisecond)
		g.do("GET", "/clients", "", http.StatusOK)
		if st := up.BreakerState(); st != "closed" {
			t.Fatalf("breaker %s after a successful trial", st)
		}
		if n := sim.Stats().Requests; n == 0 {
			t.Fatal("the trial request never reached Plesk")
		}
		// Plesk's own errors are answers: they never open the breaker.
		for i := 0; i < 5; i++ {
			g.do("GET", "/clients/99999", "", http.StatusNotFound)
		}
		if st := up.BreakerState(); st != "closed" {
			t.Fatalf("breaker %s after Plesk error answers", st)
		}
		hs.Close()
		g.tr.CloseIdleConnections()
	})
}
