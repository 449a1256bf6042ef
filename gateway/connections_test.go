package gateway

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pleskgate/pleskgate/plesksim"
)

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
