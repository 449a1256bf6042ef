package gateway

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Tracing (Config.TracerProvider set; cmd/pleskgate builds it from the
// OTEL_* variables, internal/telemetry). The server span is this file's own
// middleware step rather than otelhttp's handler: it is named after the
// route template of the OpenAPI operation Echo matched ("GET /clients/{id}"),
// which only the request path knows, and it carries the stable HTTP semantic
// conventions (semconv v1.43.0). A caller's W3C traceparent (and baggage)
// is continued. With no TracerProvider, s.tracer is nil and none of this
// runs (serverSpan is no step at all).

const gatewayTracerName = "github.com/pleskgate/pleskgate/gateway"

// setupTracing is called by New.
func (s *Server) setupTracing() {
	if s.cfg.TracerProvider == nil {
		return
	}
	s.tracer = s.cfg.TracerProvider.Tracer(gatewayTracerName)
	s.propagator = s.cfg.Propagator
	if s.propagator == nil {
		s.propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
}

// routeOf is the route template of the request: the OpenAPI path of the
// operation Echo matched, else Echo's own template (/docs/*), else "".
func (s *Server) routeOf(c echo.Context) string {
	if info, ok := s.routes[routeKey{c.Request().Method, c.Path()}]; ok {
		return info.route.Path
	}
	return c.Path()
}

// serverSpan wraps the request in its server span, ended with the status
// written; with tracing off it is no step at all.
func (s *Server) serverSpan(next echo.HandlerFunc) echo.HandlerFunc {
	if s.tracer == nil {
		return next
	}
	return func(c echo.Context) error {
		st := stateOf(c)
		s.startServerSpan(c, st)
		err := next(c) // accessLog, inside, has written any error already
		endServerSpan(st, c.Response().Status)
		return err
	}
}

// startServerSpan starts the request's server span and puts it on the
// request's context; s.tracer is set.
func (s *Server) startServerSpan(c echo.Context, st *reqState) {
	r := c.Request()
	ctx := s.propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	route := s.routeOf(c)
	method := methodLabel(r.Method)
	name := method
	attrs := make([]attribute.KeyValue, 0, 12)
	if method == "other" {
		name = "HTTP"
		attrs = append(attrs, semconv.HTTPRequestMethodKey.String("_OTHER"), semconv.HTTPRequestMethodOriginal(r.Method))
	} else {
		attrs = append(attrs, semconv.HTTPRequestMethodKey.String(method))
	}
	if route != "" {
		name += " " + route
		attrs = append(attrs, semconv.HTTPRoute(route))
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	attrs = append(attrs, semconv.URLPath(r.URL.Path), semconv.URLScheme(scheme),
		semconv.NetworkProtocolVersion(strings.TrimPrefix(r.Proto, "HTTP/")),
		attribute.String("pleskgate.request_id", st.requestID))
	if host, port, err := net.SplitHostPort(r.Host); err == nil {
		attrs = append(attrs, semconv.ServerAddress(host))
		if p, err := strconv.Atoi(port); err == nil {
			attrs = append(attrs, semconv.ServerPort(p))
		}
	} else if r.Host != "" {
		attrs = append(attrs, semconv.ServerAddress(r.Host))
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		attrs = append(attrs, semconv.ClientAddress(host))
	}
	if ua := r.UserAgent(); ua != "" {
		attrs = append(attrs, semconv.UserAgentOriginal(ua))
	}
	ctx, span := s.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	st.span = span
	if sc := span.SpanContext(); sc.IsValid() {
		st.traceID = sc.TraceID().String()
	}
	c.SetRequest(r.WithContext(ctx))
}

// endServerSpan records the answer's status and ends the span.
func endServerSpan(st *reqState, status int) {
	span := st.span
	span.SetAttributes(semconv.HTTPResponseStatusCode(status))
	if st.operation != "" {
		span.SetAttributes(attribute.String("pleskgate.operation", st.operation))
	}
	if st.hasErrcode {
		span.SetAttributes(attribute.Int("plesk.errcode", st.errcode))
	}
	if status >= 500 {
		span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(status)))
		span.SetStatus(codes.Error, http.StatusText(status))
	}
	span.End()
}

// traceIDOf is the trace id of c's request, "" when tracing is off.
func traceIDOf(c echo.Context) string {
	if st := stateOf(c); st != nil {
		return st.traceID
	}
	return ""
}

// cacheLookupSpan starts the span of a descriptor-cache lookup, or returns
// a nil span when tracing is off.
func (s *Server) cacheLookupSpan(ctx context.Context) (context.Context, trace.Span) {
	if s.tracer == nil {
		return ctx, nil
	}
	return s.tracer.Start(ctx, "descriptor cache lookup")
}

// endCacheLookup notes the outcome (hit, miss, collapsed, bypass).
func endCacheLookup(span trace.Span, outcome cacheOutcome, err error) {
	if span == nil {
		return
	}
	if err != nil {
		span.SetStatus(codes.Error, "fetch failed")
	} else {
		span.SetAttributes(attribute.String("pleskgate.cache.outcome", outcome.String()),
			attribute.Bool("pleskgate.cache.hit", outcome == cacheHit))
	}
	span.End()
}
