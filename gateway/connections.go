package gateway

import (
	"container/list"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Server limits (DESIGN.md §7): the size of a request's head, the memory
// all unfinished heads hold together, the number of connections served at
// once (idle ones shed first), and a 413 that a client writing its whole
// body before reading actually receives.

// HTTPServer is an http.Server for the gateway's handler with its limits:
// a request line and headers above Config.MaxHeaderBytes get net/http's own
// 431 (it never reads more than that, plus 4 KiB of slack, per connection),
// and timeouts bound slow clients. Serve it on LimitListener's listener:
// its ConnState tells that listener which connections are idle.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ReadHeaderTimeout: s.conns.readHeaderTimeout,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      s.WriteTimeout(),
		IdleTimeout:       120 * time.Second,
		ConnState:         s.conns.connState,
	}
}

// WriteTimeout is the server's write deadline: one upstream attempt's
// timeout and 30 s for the rest (queueing, retries, writing the answer).
// Requests that could no longer be answered within it are shed (deadline.go).
func (s *Server) WriteTimeout() time.Duration {
	timeout := s.cfg.Upstream.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return timeout + 30*time.Second
}

// Listen listens on addr and serves at most Config.MaxConnections
// connections at once (LimitListener).
func (s *Server) Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return s.LimitListener(ln), nil
}

// LimitListener wraps ln so that at most Config.MaxConnections of its
// connections are open at once. A connection accepted at the limit closes
// the one that has waited longest for a request head (idle keep-alive, or
// opened and silent) to take its place; only when every connection is
// busy with a request does it wait, in the kernel's accept queue, for one
// to close. It also closes a connection whose unfinished head would take
// the heads' shared budget (Config.MaxHeaderBytesTotal) over.
//
// golang.org/x/net/netutil.LimitListener, used before, cannot do either:
// it only blocks Accept, so idle connections held by one caller locked out
// everyone else until IdleTimeout (issue 26). Shedding needs to know which
// connections are idle, which only http.Server's ConnState tells, so the
// listener and HTTPServer share one connTracker.
func (s *Server) LimitListener(ln net.Listener) net.Listener {
	return &limitListener{Listener: ln, t: s.conns, done: make(chan struct{})}
}

// headAllowance is how much of each unfinished head is not charged to the
// shared budget: net/http reads every connection through a 4 KiB buffer,
// which MaxConnections bounds already, and a usual head (credentials, a
// traceparent, a user agent) fits in it, so that heads an attacker keeps
// unfinished can never refuse an ordinary caller.
const headAllowance = 4 << 10

// connTracker counts the connections a LimitListener has open and which
// of them are waiting for a request head, and charges the bytes of those
// heads beyond headAllowance to a budget they share.
type connTracker struct {
	max               int
	headBudget        int64
	readHeaderTimeout time.Duration
	shed              *prometheus.CounterVec // by reason: waiting (to make room), head_budget

	headBytes atomic.Int64 // charged by unfinished heads now
	headPeak  atomic.Int64 // the most headBytes has been (tests, BENCHMARKS)

	mu      sync.Mutex
	open    int
	waiting list.List     // *trackedConn waiting for a head, the longest-waiting first
	changed chan struct{} // one token: a connection closed or began waiting
}

func newConnTracker(cfg Config, reg prometheus.Registerer) *connTracker {
	t := &connTracker{
		max:               cfg.MaxConnections,
		headBudget:        cfg.MaxHeaderBytesTotal,
		readHeaderTimeout: cfg.ReadHeaderTimeout,
		changed:           make(chan struct{}, 1),
		shed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pleskgate_connections_shed_total",
			Help: "Connections the gateway closed: waiting (the longest waiting for a request head, to make room for a new one at PLESKGATE_MAX_CONNECTIONS) or head_budget (its unfinished head would take PLESKGATE_MAX_HEADER_BYTES_TOTAL over).",
		}, []string{"reason"}),
	}
	if t.max <= 0 {
		t.max = 4096
	}
	if t.headBudget <= 0 {
		t.headBudget = 4 << 20
	}
	if t.readHeaderTimeout <= 0 {
		t.readHeaderTimeout = 10 * time.Second
	}
	for _, r := range []string{"waiting", "head_budget"} {
		t.shed.WithLabelValues(r)
	}
	reg.MustRegister(t.shed)
	return t
}

// admit registers c, accepted at the limit or under it: it closes the
// connection waiting longest for a head to make room, or, when every
// connection is busy, waits for one to close or begin waiting. It returns
// nil when done closes first.
func (t *connTracker) admit(c net.Conn, done <-chan struct{}) *trackedConn {
	tc := &trackedConn{Conn: c, t: t, counting: true}
	for {
		t.mu.Lock()
		if t.open < t.max {
			t.open++
			tc.elem = t.waiting.PushBack(tc) // StateNew: waiting for its first head
			t.mu.Unlock()
			return tc
		}
		if e := t.waiting.Front(); e != nil {
			// The victim leaves the books under the same lock that chose
			// it, so a head it begins reading now cannot make it active
			// in between; its slot goes to c at once.
			victim := e.Value.(*trackedConn)
			victim.detach()
			t.open++
			tc.elem = t.waiting.PushBack(tc)
			t.mu.Unlock()
			t.shed.WithLabelValues("waiting").Inc()
			_ = victim.Conn.Close()
			victim.release()
			return tc
		}
		t.mu.Unlock()
		select {
		case <-t.changed:
		case <-done:
			_ = c.Close()
			return nil
		}
	}
}

func (t *connTracker) signal() {
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

// connState is http.Server.ConnState: a connection waits for a head when
// new (admit) and when idle, and stops when net/http has read a head
// (StateActive) or handed the connection over (StateHijacked).
func (t *connTracker) connState(nc net.Conn, state http.ConnState) {
	if tlsConn, ok := nc.(interface{ NetConn() net.Conn }); ok {
		nc = tlsConn.NetConn()
	}
	c, ok := nc.(*trackedConn)
	if !ok || c.t != t {
		return
	}
	switch state {
	case http.StateIdle:
		c.setWaiting(true)
	case http.StateActive, http.StateHijacked:
		c.setWaiting(false)
	}
}

// trackedConn is a connection a LimitListener accepted.
type trackedConn struct {
	net.Conn
	t *connTracker

	elem   *list.Element // in t.waiting while waiting for a head; guarded by t.mu
	closed bool          // guarded by t.mu

	headMu   sync.Mutex
	counting bool  // reading a head: its bytes are charged
	head     int64 // bytes of the unfinished head read so far
}

func (c *trackedConn) setWaiting(waiting bool) {
	t := c.t
	t.mu.Lock()
	if !c.closed {
		if waiting {
			if c.elem == nil {
				c.elem = t.waiting.PushBack(c)
			} else {
				t.waiting.MoveToBack(c.elem)
			}
		} else if c.elem != nil {
			t.waiting.Remove(c.elem)
			c.elem = nil
		}
	}
	t.mu.Unlock()
	c.headMu.Lock()
	c.counting = waiting
	c.uncharge()
	c.headMu.Unlock()
	if waiting {
		t.signal()
	}
}

// charged is what a head of n bytes draws on the shared budget.
func charged(n int64) int64 { return max(0, n-headAllowance) }

// uncharge gives the head's bytes back to the budget. c.headMu is held.
func (c *trackedConn) uncharge() {
	c.t.headBytes.Add(-charged(c.head))
	c.head = 0
}

// errHeadBudget is a Read's error when the connection was closed because
// its head would take the shared budget over. It comes in a *net.OpError
// with Op "read", which net/http treats as a connection gone: it closes
// without writing an answer (the caller is still writing its head, so an
// answer would mostly be lost to a reset anyway).
var errHeadBudget = errors.New("unfinished request heads are over PLESKGATE_MAX_HEADER_BYTES_TOTAL")

func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.charge(n) {
		c.t.shed.WithLabelValues("head_budget").Inc()
		_ = c.Close()
		return 0, &net.OpError{Op: "read", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: errHeadBudget}
	}
	return n, err
}

// charge counts n more bytes of a head being read, and reports false when
// they would take the shared budget over.
func (c *trackedConn) charge(n int) bool {
	c.headMu.Lock()
	defer c.headMu.Unlock()
	if !c.counting {
		return true
	}
	more := charged(c.head+int64(n)) - charged(c.head)
	if more > 0 {
		total := c.t.headBytes.Add(more)
		if total > c.t.headBudget {
			c.t.headBytes.Add(-more)
			return false
		}
		for peak := c.t.headPeak.Load(); total > peak && !c.t.headPeak.CompareAndSwap(peak, total); peak = c.t.headPeak.Load() {
		}
	}
	c.head += int64(n)
	return true
}

// Close closes the connection and frees its slot and its head's bytes,
// once, whoever calls it first (net/http, or admit shedding it).
func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.t.mu.Lock()
	first := c.detach()
	c.t.mu.Unlock()
	if first {
		c.release()
	}
	return err
}

// detach takes c out of the tracker's books: its slot and its place among
// the waiting. t.mu is held; false when c was detached already.
func (c *trackedConn) detach() bool {
	if c.closed {
		return false
	}
	c.closed = true
	c.t.open--
	if c.elem != nil {
		c.t.waiting.Remove(c.elem)
		c.elem = nil
	}
	return true
}

// release gives a detached connection's head bytes back to the budget and
// wakes an Accept waiting for a slot.
func (c *trackedConn) release() {
	c.headMu.Lock()
	c.counting = false
	c.uncharge()
	c.headMu.Unlock()
	c.t.signal()
}

// limitListener is LimitListener's listener.
type limitListener struct {
	net.Listener
	t         *connTracker
	done      chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc := l.t.admit(c, l.done); tc != nil {
		return tc, nil
	}
	return nil, net.ErrClosed
}

func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}
