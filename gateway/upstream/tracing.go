package upstream

import (
	"context"
	"io"
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/pleskgate/pleskgate/translator"
)

// Tracing (Config.TracerProvider set): each attempt is a client span made by
// otelhttp's transport (server.address, http.response.status_code, …; it
// injects traceparent into every packet), to which the inner transport
// below adds plesk.operation, plesk.protocol_version and plesk.errcode.
// Admission wait is a span of its own; retries, breaker state changes and
// a shed request are events. With no TracerProvider nothing here runs.

const tracerName = "github.com/pleskgate/pleskgate/gateway/upstream"

var (
	attrOperation = attribute.Key("plesk.operation")
	attrProtocol  = attribute.Key("plesk.protocol_version")
	attrErrcode   = attribute.Key("plesk.errcode")
)

// packetInfo names the packet a call sends, for its attempt spans.
type packetInfo struct {
	op      string
	version string
}

type packetInfoKey struct{}

// withPacket notes op and v on ctx when tracing is on.
func (u *Client) withPacket(ctx context.Context, op string, v translator.Version) context.Context {
	if u.tracer == nil {
		return ctx
	}
	pi := packetInfo{op: op}
	if v != (translator.Version{}) {
		pi.version = v.String()
	}
	return context.WithValue(ctx, packetInfoKey{}, pi)
}

// tracedTransport is otelhttp's transport around base.
func tracedTransport(base http.RoundTripper, tp trace.TracerProvider, prop propagation.TextMapPropagator) http.RoundTripper {
	if prop == nil {
		prop = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	return otelhttp.NewTransport(pleskAttrs{base},
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(prop),
		otelhttp.WithMeterProvider(noop.NewMeterProvider()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			if pi, ok := r.Context().Value(packetInfoKey{}).(packetInfo); ok && pi.op != "" {
				return "POST " + pi.op
			}
			return r.Method
		}))
}

// pleskAttrs runs inside otelhttp's transport: the request's context holds
// the attempt's span, which it gives the packet's attributes, and the
// answer's body is watched for Plesk's first errcode while it is read
// (before otelhttp ends the span at the body's end).
type pleskAttrs struct{ base http.RoundTripper }

func (p pleskAttrs) RoundTrip(r *http.Request) (*http.Response, error) {
	span := trace.SpanFromContext(r.Context())
	if pi, ok := r.Context().Value(packetInfoKey{}).(packetInfo); ok && span.IsRecording() {
		span.SetAttributes(attrOperation.String(pi.op))
		if pi.version != "" {
			span.SetAttributes(attrProtocol.String(pi.version))
		}
	}
	resp, err := p.base.RoundTrip(r)
	if err == nil && resp.Body != nil && span.IsRecording() {
		resp.Body = &errcodeScanner{body: resp.Body, span: span}
	}
	return resp, err
}

// errcodeScanner passes the body through and finds the first
// <errcode>N</errcode> in it, across reads, with no buffering.
type errcodeScanner struct {
	body    io.ReadCloser
	span    trace.Span
	matched int // bytes of "<errcode>" matched so far
	digits  int // the code being read, once the tag matched
	inCode  bool
	done    bool
}

const errcodeTag = "<errcode>"

func (s *errcodeScanner) Read(p []byte) (int, error) {
	n, err := s.body.Read(p)
	if !s.done {
		s.scan(p[:n])
	}
	return n, err
}

func (s *errcodeScanner) scan(b []byte) {
	for _, c := range b {
		if s.inCode {
			if c >= '0' && c <= '9' && s.digits < 1e8 {
				s.digits = s.digits*10 + int(c-'0')
				continue
			}
			s.done = true
			s.span.SetAttributes(attrErrcode.Int(s.digits))
			return
		}
		switch {
		case c == errcodeTag[s.matched]:
			s.matched++
			if s.matched == len(errcodeTag) {
				s.inCode = true
			}
		case c == errcodeTag[0]:
			s.matched = 1
		default:
			s.matched = 0
		}
	}
}

func (s *errcodeScanner) Close() error { return s.body.Close() }

// event adds a span event to the current span of ctx when tracing is on.
func (u *Client) event(ctx context.Context, name string, attrs ...attribute.KeyValue) {
	if u.tracer == nil {
		return
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent(name, trace.WithAttributes(attrs...))
	}
}
