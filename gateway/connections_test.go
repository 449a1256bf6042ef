package gateway

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"

	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pleskgate/pleskgate/plesksim"
)

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

// TestOversizeBodyReaches413ClientWritingFirst: a client that writes a
// 2 MiB body (the limit is 1 MiB) before it reads receives the 413 problem,
// not a reset, with Content-Length and with chunked encoding; the panel sees
// no packet.
func TestOversizeBodyReaches413ClientWritingFirst(t *testing.T) {
	h := newHarness(t)
	addr := serveLimited(t, h)
	body := bytes.Repeat([]byte("x"), 2<<20)
	before := h.sim.Stats().Requests

	head := "POST /clients HTTP/1.1\r\nHost: gw\r\n" + basicHeader("admin", adminPass) +
		"Content-Type: application/json\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\n\r\n"
	resp, data, err := rawExchange(t, addr, head, body)
	if err != nil {
		t.Fatalf("Content-Length body: %v", err)
	}
	checkTooLarge(t, resp, data)

	// Chunked: the limit is found while the validator reads.
	var chunked bytes.Buffer
	for off := 0; off < len(body); off += 64 << 10 {
		fmt.Fprintf(&chunked, "%x\r\n%s\r\n", 64<<10, body[off:off+64<<10])
	}
	chunked.WriteString("0\r\n\r\n")
	head = "POST /clients HTTP/1.1\r\nHost: gw\r\n" + basicHeader("admin", adminPass) +
		"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
	resp, data, err = rawExchange(t, addr, head, chunked.Bytes())
	if err != nil {
		t.Fatalf("chunked body: %v", err)
	}
	checkTooLarge(t, resp, data)
	if n := h.sim.Stats().Requests - before; n != 0 {
		t.Fatalf("%d packets reached the panel", n)
	}
}

func checkTooLarge(t *testing.T, resp *http.Response, data []byte) {
	t.Helper()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("status %d %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), data)
	}
	var p Problem
	if err := json.Unmarshal(data, &p); err != nil || p.Status != 413 || !strings.HasSuffix(p.Type, "/too-large") {
		t.Fatalf("problem %s (%v)", data, err)
	}
}

// TestHeaderOverLimitGets431: a request whose head exceeds
// MaxHeaderBytes gets net/http's 431 over a real connection, and one under
// it is served.
func TestHeaderOverLimitGets431(t *testing.T) {
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) { gc.MaxHeaderBytes = 8 << 10 })
	addr := serveLimited(t, h)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	// Written while the answer is read: the server answers as soon as it
	// has read past its limit, and closes.
	go func() {
		_, _ = io.WriteString(conn, "GET /clients HTTP/1.1\r\nHost: gw\r\n"+basicHeader("admin", adminPass)+
			"X-Filler: "+strings.Repeat("a", 100<<10)+"\r\n\r\n")
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d, want 431", resp.StatusCode)
	}

	resp2, data, err := rawExchange(t, addr, "GET /clients HTTP/1.1\r\nHost: gw\r\n"+basicHeader("admin", adminPass)+
		"X-Filler: "+strings.Repeat("a", 2<<10)+"\r\nConnection: close\r\n\r\n", nil)
	if err != nil || resp2.StatusCode != http.StatusOK {
		t.Fatalf("a head under the limit: %v %v %s", err, resp2, data)
	}
}

// TestConnectionsBeyondLimitWaitWhileAllBusy: with MaxConnections 2 and
// two connections busy with a request (each sent a head and is still
// sending its body), a third is not served until one of them closes.
func TestConnectionsBeyondLimitWaitWhileAllBusy(t *testing.T) {
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) { gc.MaxConnections = 2 })
	addr := serveLimited(t, h)
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = io.WriteString(c, "POST /healthz HTTP/1.1\r\nHost: gw\r\nContent-Length: 10\r\n\r\n") // and no body
		held = append(held, c)
	}
	waitFor(t, "both connections busy", func() bool { return h.gw.conns.openAndWaiting() == [2]int{2, 0} })
	third, err := net.Dial("tcp", addr) // the kernel completes the handshake
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	if _, err := io.WriteString(third, "GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(third)
	_ = third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := br.Peek(1); err == nil {
		t.Fatal("a third connection was served while two were busy")
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		t.Fatalf("third connection: %v", err)
	}
	held[0].Close()
	_ = third.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("after a slot freed: %v %v", err, resp)
	}
	resp.Body.Close()
}

// TestIdleConnectionsShedForNewCaller: with MaxConnections 20 held by
// keep-alive connections that each sent one /healthz and went idle, and
// by connections that sent nothing, a new /healthz and an administrator's
// GET are answered (before: they waited for IdleTimeout, 120 s), and the
// connection idle longest is the one closed to make room.
func TestIdleConnectionsShedForNewCaller(t *testing.T) {
	const limit = 20
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) { gc.MaxConnections = limit })
	addr := serveLimited(t, h)
	var held []net.Conn
	for i := range limit {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
		if i >= limit-5 {
			continue // silent: opened, nothing sent
		}
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		_, _ = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("held connection %d: %v %v", i, err, resp)
		}
		resp.Body.Close()
		if i == 0 { // so that it is the longest idle
			waitFor(t, "the first connection idle", func() bool { return h.gw.conns.openAndWaiting() == [2]int{1, 1} })
		}
	}
	waitFor(t, "every connection waiting", func() bool { return h.gw.conns.openAndWaiting() == [2]int{limit, limit} })

	resp, data, err := rawExchange(t, addr, "GET /healthz HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz with %d idle connections at the limit: %v %v %s", limit, err, resp, data)
	}
	_ = held[0].SetReadDeadline(time.Now().Add(30 * time.Second))
	if n, err := held[0].Read(make([]byte, 1)); err == nil {
		t.Fatalf("the longest-idle connection is still open (read %d bytes)", n)
	}
	waitFor(t, "the probe's connection closed", func() bool { return h.gw.conns.openAndWaiting()[0] == limit-1 })
	resp, data, err = rawExchange(t, addr, "GET /clients HTTP/1.1\r\nHost: gw\r\n"+basicHeader("admin", adminPass)+"Connection: close\r\n\r\n", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the administrator's GET: %v %v %s", err, resp, data)
	}
	// The probe's connection closed after its answer: the GET took its slot.
	if n := testutil.ToFloat64(h.gw.conns.shed.WithLabelValues("waiting")); n != 1 {
		t.Fatalf("%v connections shed, want 1", n)
	}
}

// TestUnfinishedHeadsShareABudget: 30 connections each send 30 KiB of a
// head without its final CRLF against a 256 KiB MaxHeaderBytesTotal. The
// bytes charged never exceed the budget, the connections beyond it are
// closed at once, an ordinary request is served meanwhile, and the heads
// that were kept are answered once finished (before: all 30 were held).
func TestUnfinishedHeadsShareABudget(t *testing.T) {
	const budget, conns = 256 << 10, 30
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) { gc.MaxHeaderBytesTotal = budget })
	addr := serveLimited(t, h)
	partial := "GET /healthz HTTP/1.1\r\nHost: gw\r\nX-Fill: " + strings.Repeat("a", 30<<10)
	each := charged(int64(len(partial)))
	fit := int(budget / each)

	var refused atomic.Int64
	var cs []net.Conn
	results := make(chan int, conns) // the status, or 0 when closed without an answer
	for range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := io.WriteString(c, partial); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
		go func() {
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				refused.Add(1)
				results <- 0
				return
			}
			resp.Body.Close()
			results <- resp.StatusCode
		}()
	}
	// Settled: every connection still open has had its whole head charged.
	waitFor(t, "the heads read or refused", func() bool {
		r := refused.Load()
		return r >= int64(conns-fit) && h.gw.conns.headBytes.Load() == (conns-r)*each
	})
	if peak := h.gw.conns.headPeak.Load(); peak > budget {
		t.Fatalf("unfinished heads held %d bytes, over the budget of %d", peak, budget)
	}
	resp, data, err := rawExchange(t, addr, "GET /clients HTTP/1.1\r\nHost: gw\r\n"+basicHeader("admin", adminPass)+"Connection: close\r\n\r\n", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("an ordinary request during the flood: %v %v %s", err, resp, data)
	}
	for _, c := range cs {
		_, _ = io.WriteString(c, "\r\n\r\n") // fails on the refused ones: no matter
	}
	kept := 0
	for range conns {
		switch st := <-results; st {
		case 0:
		case http.StatusOK:
			kept++
		default:
			t.Fatalf("a finished head got %d", st)
		}
	}
	if kept == 0 || kept+int(refused.Load()) != conns || kept > fit {
		t.Fatalf("%d heads kept and answered, %d refused; at most %d fit", kept, refused.Load(), fit)
	}
	if n := testutil.ToFloat64(h.gw.conns.shed.WithLabelValues("head_budget")); n != float64(conns-kept) {
		t.Fatalf("%v connections shed for the budget, want %d", n, conns-kept)
	}
	if n := h.gw.conns.headBytes.Load(); n != 0 {
		t.Fatalf("%d head bytes still charged after every head finished", n)
	}
}

// openAndWaiting is the tracker's open connections and how many of them
// wait for a head.
func (t *connTracker) openAndWaiting() [2]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return [2]int{t.open, t.waiting.Len()}
}

// TestUpstreamUserinfoIsRedacted: GET /meta shows the upstream URL without
// its userinfo or query.
func TestUpstreamUserinfoIsRedacted(t *testing.T) {
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) {
		gc.UpstreamLabel = "https://plesk-user:S3cretPass@panel.example:8443/?token=T0ken"
	})
	r := h.expect(h.do("GET", "/meta", nil), http.StatusOK)
	for _, leak := range []string{"plesk-user", "S3cretPass", "T0ken", "@"} {
		if strings.Contains(string(r.body), leak) {
			t.Fatalf("/meta shows %q: %s", leak, r.body)
		}
	}
	if !strings.Contains(string(r.body), `"https://panel.example:8443/"`) {
		t.Fatalf("/meta lacks the redacted URL: %s", r.body)
	}
	for raw, want := range map[string]string{
		"http://u:p@panel:8443":  "http://panel:8443",
		"https://panel:8443":     "https://panel:8443",
		"http://u:p%zz@panel":    "(unparsable URL)",
		"http://only-user@panel": "http://panel",
		"":                       "",
	} {
		if got := RedactURL(raw); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

// TestMadeUpErrcodesShareOneLabel: a panel answering codes outside
// PROTOCOL.md §9's list (here the simulator's answers replaced by system
// errors with 299 invented codes) adds one errcode="other" series, while a listed code
// keeps its own value.
func TestMadeUpErrcodesShareOneLabel(t *testing.T) {
	sim, err := plesksim.New(plesksim.Config{AdminLogin: "admin", AdminPassword: adminPass})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim)
	defer simSrv.Close()
	target, _ := url.Parse(simSrv.URL)
	var next atomic.Int64
	proxy := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		ModifyResponse: func(resp *http.Response) error {
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			resp.Body.Close()
			code := int64(1014) // the first one: a listed code
			if n := next.Add(1); n > 1 {
				code = 70000 + n
			}
			b = fmt.Appendf(nil, `<?xml version="1.0" encoding="UTF-8"?><packet version="1.6.9.1"><system><status>error</status><errcode>%d</errcode><errtext>made up</errtext></system></packet>`, code)
			resp.Body = io.NopCloser(bytes.NewReader(b))
			resp.ContentLength = int64(len(b))
			resp.Header.Del("Content-Length")
			return nil
		},
	})
	defer proxy.Close()
	h := newHarness(t, func(_ *plesksim.Config, gc *Config) {
		gc.Upstream.BaseURL = proxy.URL
		gc.Protocol, _ = ParseProtocolSetting("1.6.9.1") // no get_protos: every packet is a get
	})
	for i := range 300 {
		r := h.do("GET", fmt.Sprintf("/clients/%d", 900000+i), nil)
		if r.StatusCode < 400 {
			t.Fatalf("unknown client: %d %s", r.StatusCode, r.body)
		}
	}
	body := string(h.anonymous().expect(h.anonymous().do("GET", "/metrics", nil), http.StatusOK).body)
	if strings.Contains(body, `errcode="70002"`) || !strings.Contains(body, `errcode="other"`) || !strings.Contains(body, `errcode="1014"`) {
		t.Fatalf("errcode labels: %s", grepLines(body, "pleskgate_upstream_packets_total"))
	}
	if n := testutil.ToFloat64(h.gw.metrics.upstreamPackets.WithLabelValues("customer/get", "plesk_error", "other")); n != 299 {
		t.Fatalf("other: %v packets, want 299", n)
	}
	for _, c := range []int{0, 1001, 1013, 11003, 14009} {
		if errcodeLabel(c) != fmt.Sprint(c) {
			t.Errorf("code %d labelled %q", c, errcodeLabel(c))
		}
	}
	for _, c := range []int{-1, 1016, 1034, 2300, 99999} {
		if errcodeLabel(c) != "other" {
			t.Errorf("code %d labelled %q", c, errcodeLabel(c))
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
