package gateway

import (
	"net/http"
	"runtime/debug"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"
)

// chain is the gateway's one Echo middleware. In order, every request:
//
//   - recovers from a panic into a 500 problem and a log line;
//   - gets its state (reqState) on its context, an X-Request-ID, and on the
//     way out one access-log line and the HTTP metrics;
//   - passes CORS, when origins are configured;
//   - has its body limited (limitBody);
//   - is validated against openapi.yaml and authenticated (validate);
//   - has Idempotency-Key applied when it is a POST (idempotent).
//
// The steps are plain method calls rather than seven Echo middlewares:
// Echo composes middleware around the matched handler on every request,
// which costs a closure per middleware per request.
//
// chain returns the same function for every request (s.serveFn, built once
// in newEcho), so Echo's per-request composition allocates nothing either:
// Echo hands its only middleware the matched handler, which is also
// c.Handler() (Echo's ServeHTTP: Find, then applyMiddleware(c.Handler(),
// …)), so serve takes it from there. This holds while chain is the one
// middleware registered with e.Use and nothing is registered with e.Pre
// before a handler (newEcho registers nothing else).
func (s *Server) chain(echo.HandlerFunc) echo.HandlerFunc {
	return s.serveFn
}

func (s *Server) serve(c echo.Context) (err error) {
	var st *reqState
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			id := ""
			if st != nil {
				s.metrics.inFlight.Dec()
				st.attach(c) // Echo's error handler reads the request id from it
				id = st.requestID
			}
			s.log.Error("panic serving request", zap.String("request_id", id), zap.Any("panic", r), zap.ByteString("stack", debug.Stack()))
			err = &Error{Status: http.StatusInternalServerError, Slug: "internal", Title: "Internal error", Detail: "an unexpected error occurred; the request id identifies it in the logs"}
		}
	}()
	next := c.Handler()
	start := time.Now()
	r := c.Request()
	st = &reqState{Context: r.Context(), start: start}
	setRequestID(c, st)
	s.metrics.inFlight.Inc()
	if err := s.serveInner(c, st, next); err != nil {
		st.attach(c)
		c.Error(err)
	}
	s.metrics.inFlight.Dec()
	s.logRequest(c, st, r.Method, start)
	return nil
}

// serveInner runs the steps after the access log's.
func (s *Server) serveInner(c echo.Context, st *reqState, next echo.HandlerFunc) error {
	if s.cors != nil {
		st.attach(c)
		return s.cors(func(c echo.Context) error { return s.serveChecked(c, st, next) })(c)
	}
	return s.serveChecked(c, st, next)
}

func (s *Server) serveChecked(c echo.Context, st *reqState, next echo.HandlerFunc) error {
	if b := c.Request().Body; b != nil && b != http.NoBody {
		// limitBody replaces the body: on a copy of the request, never on
		// the one net/http keeps (it inspects that one's body after the
		// handler, to decide whether to drain it and reuse the connection).
		st.attach(c)
	}
	if err := s.limitBody(c); err != nil {
		return err
	}
	return s.validate(c, st, next)
}

// handle passes the request on to its handler (through idempotent), with
// the state as the request's context.
func (s *Server) handle(c echo.Context, st *reqState, next echo.HandlerFunc) error {
	st.attach(c)
	return s.idempotent(c, next)
}

// logRequest records the HTTP metrics and writes the access-log line. The
// line's fields are built only when the logger will write it (Check: level
// and sampling).
func (s *Server) logRequest(c echo.Context, st *reqState, method string, start time.Time) {
	op := st.operation
	if op == "" {
		// Routes outside the spec's operations (e.g. /docs/*) are labelled
		// by their route template: a fixed, small set.
		op = c.Path()
		if op == "" {
			op = "unmatched"
		}
	}
	status := c.Response().Status
	d := time.Since(start)
	s.metrics.observeHTTP(op, method, status, d)
	ce := s.log.Check(zap.InfoLevel, "request")
	if ce == nil {
		return
	}
	fields := make([]zap.Field, 7, 9)
	fields[0] = zap.String("request_id", st.requestID)
	fields[1] = zap.String("method", method)
	fields[2] = zap.String("route", c.Path())
	fields[3] = zap.String("operation", op)
	fields[4] = zap.Int("status", status)
	fields[5] = zap.Duration("latency", d)
	fields[6] = zap.Int32("upstream_packets", st.packets.Load())
	if st.hasErrcode {
		fields = append(fields, zap.Int("plesk_errcode", st.errcode))
	}
	if st.caller != "" {
		fields = append(fields, zap.String("caller", st.caller))
	}
	ce.Write(fields...)
}
