package gateway

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// limitBody refuses bodies over Config.MaxBodyBytes with 413 before anything
// else reads them; the rest of such a body is read and thrown away (up to a
// bound: drainOversize), so that a client that writes it all before reading
// receives the 413. A body without Content-Length that runs over is caught
// where it is read (validate).
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength > s.cfg.MaxBodyBytes {
			drainOversize(r, r.Body)
			return s.tooLarge()
		}
		// A request without a body (http.NoBody: net/http's GET, HEAD, …)
		// keeps it, so the validator can tell that nothing was sent.
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = limitedBody{limited: http.MaxBytesReader(c.Response(), r.Body, s.cfg.MaxBodyBytes), orig: r.Body}
		}
		return next(c)
	}
}

// tooLarge is the 413 problem for a body over the limit.
func (s *Server) tooLarge() *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Slug: "too-large", Title: "Request body too large",
		Detail: fmt.Sprintf("the body may be at most %d bytes", s.cfg.MaxBodyBytes)}
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
