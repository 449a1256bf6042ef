package gateway

import (
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/net/netutil"
)

// Server limits (DESIGN.md §7): the size of a request's head, the number of
// connections served at once, and a 413 that a client writing its whole
// body before reading actually receives.

// HTTPServer is an http.Server for the gateway's handler with its limits:
// a request line and headers above Config.MaxHeaderBytes get net/http's own
// 431 (it never reads more than that, plus 4 KiB of slack, per connection),
// and timeouts bound slow clients.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      s.WriteTimeout(),
		IdleTimeout:       120 * time.Second,
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
// connections at once (golang.org/x/net/netutil.LimitListener): further
// ones wait in the kernel's accept queue until one closes, so a flood of
// connections costs the gateway no memory beyond the limit.
func (s *Server) Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return s.LimitListener(ln), nil
}

// LimitListener wraps ln so that at most Config.MaxConnections of its
// connections are open at once.
func (s *Server) LimitListener(ln net.Listener) net.Listener {
	return netutil.LimitListener(ln, s.cfg.MaxConnections)
}

// drainLimit is how much of an oversize body is read and thrown away after
// the limit, so that the 413 reaches a client that writes its whole body
// before it reads (Python's urllib, many others). Without it net/http reads
// at most 256 KiB after the handler and closes the connection while the
// client is still writing: the client sees a reset, not the 413. Beyond
// this bound the connection is closed anyway (and such a client sees the
// reset): reading costs bandwidth, never memory.
const drainLimit = 8 << 20

// drainOversize reads and discards what is left of body, an oversize
// request's original body, up to drainLimit. A client that asked for
// 100-continue has not sent its body and will not: nothing is read, and
// net/http closes the connection after the 413.
func drainOversize(r *http.Request, body io.Reader) {
	if body == nil || body == http.NoBody || strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		return
	}
	if r.ContentLength > 0 && r.ContentLength > drainLimit {
		return // more than the bound: closing now spares reading it
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(body, drainLimit))
}

// limitedBody is a request body under http.MaxBytesReader that keeps the
// body it wraps, so that an oversize one can be drained (drainOversize).
// Its Close closes nothing: the validator closes the body it read, and the
// rest of an oversize one must stay readable; net/http closes the original
// after the handler.
type limitedBody struct {
	limited io.Reader // http.MaxBytesReader over orig
	orig    io.Reader // the body as net/http gave it
}

func (b limitedBody) Read(p []byte) (int, error) { return b.limited.Read(p) }
func (limitedBody) Close() error                 { return nil }
