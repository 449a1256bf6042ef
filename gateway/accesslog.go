package gateway

import (
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"
)

// accessLog counts the request in flight and, on the way out, writes an
// error as its problem (so that the status is known), records the HTTP
// metrics and writes the access-log line.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		method := c.Request().Method
		s.metrics.inFlight.Inc()
		defer s.metrics.inFlight.Dec()
		if err := next(c); err != nil {
			c.Error(err)
		}
		s.logRequest(c, stateOf(c), method, start)
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
