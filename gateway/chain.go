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
func (s *Server) chain(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error { return s.serve(c, next) }
}

func (s *Server) serve(c echo.Context, next echo.HandlerFunc) (err error) {
	var st *reqState
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			if st != nil {
				s.metrics.inFlight.Dec()
			}
			s.log.Error("panic serving request", zap.String("request_id", requestID(c)), zap.Any("panic", r), zap.ByteString("stack", debug.Stack()))
			err = &Error{Status: http.StatusInternalServerError, Slug: "internal", Title: "Internal error", Detail: "an unexpected error occurred; the request id identifies it in the logs"}
		}
	}()
	start := time.Now()
	r := c.Request()
	st = &reqState{Context: r.Context()}
	c.SetRequest(r.WithContext(st))
	setRequestID(c, st)
	s.metrics.inFlight.Inc()
	if err := s.serveInner(c, next); err != nil {
		c.Error(err)
	}
	s.metrics.inFlight.Dec()
	s.logRequest(c, st, r.Method, start)
	return nil
}

// serveInner runs the steps after the access log's.
func (s *Server) serveInner(c echo.Context, next echo.HandlerFunc) error {
	if s.cors != nil {
		return s.cors(func(c echo.Context) error { return s.serveChecked(c, next) })(c)
	}
	return s.serveChecked(c, next)
}

func (s *Server) serveChecked(c echo.Context, next echo.HandlerFunc) error {
	if err := s.limitBody(c); err != nil {
		return err
	}
	return s.validate(c, next)
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
