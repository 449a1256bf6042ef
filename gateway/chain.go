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
func (s *Server) chain(next echo.HandlerFunc) echo.HandlerFunc {
	checked := func(c echo.Context) error {
		if err := s.limitBody(c); err != nil {
			return err
		}
		return s.validate(c, next)
	}
	if s.cors != nil {
		checked = s.cors(checked)
	}
	return func(c echo.Context) (err error) {
		start := time.Now()
		st := &reqState{}
		r := c.Request()
		c.SetRequest(r.WithContext(withState(r.Context(), st)))
		setRequestID(c, st)
		if s.tracer != nil {
			s.startServerSpan(c, st)
		}
		st.jsonOut.reset(c.Response().Writer)
		c.Response().Writer = &st.jsonOut
		s.metrics.inFlight.Inc()
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.metrics.inFlight.Dec()
				s.log.Error("panic serving request", zap.String("request_id", st.requestID), zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
				err = &Error{Status: http.StatusInternalServerError, Slug: "internal", Title: "Internal error", Detail: "an unexpected error occurred; the request id identifies it in the logs"}
				if st.span != nil {
					endServerSpan(st, http.StatusInternalServerError)
				}
			}
		}()
		if err := checked(c); err != nil {
			c.Error(err)
		}
		s.metrics.inFlight.Dec()
		s.logRequest(c, st, r.Method, start)
		if st.span != nil {
			endServerSpan(st, c.Response().Status)
		}
		return nil
	}
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
	fields := []zap.Field{
		zap.String("request_id", st.requestID),
		zap.String("method", method),
		zap.String("route", c.Path()),
		zap.String("operation", op),
		zap.Int("status", status),
		zap.Duration("latency", d),
		zap.Int32("upstream_packets", st.packets.Load()),
	}
	if st.hasErrcode {
		fields = append(fields, zap.Int("plesk_errcode", st.errcode))
	}
	if st.traceID != "" {
		fields = append(fields, zap.String("trace_id", st.traceID))
	}
	if st.caller != "" {
		// Not "caller": zap's production logger writes the source line there.
		fields = append(fields, zap.String("principal", s.principal(st)))
	}
	ce.Write(fields...)
}
