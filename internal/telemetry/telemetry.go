// Package telemetry sets up OpenTelemetry tracing from the standard
// OTEL_* environment variables. Tracing is off unless an OTLP endpoint is
// set (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT):
// then Setup returns a nil TracerProvider and the gateway makes no spans.
package telemetry

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Tracing is the configured tracer provider, or nothing when tracing is off.
type Tracing struct {
	Provider   trace.TracerProvider // nil when off
	Propagator propagation.TextMapPropagator
	Endpoint   string // where spans go (for the start-up log line)
	Protocol   string // http/protobuf or grpc
	sdk        *sdktrace.TracerProvider
}

// Enabled reports whether spans are exported.
func (t *Tracing) Enabled() bool { return t != nil && t.sdk != nil }

// Shutdown flushes the spans still queued and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	return t.sdk.Shutdown(ctx)
}

// Propagator is W3C Trace Context plus Baggage.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// Setup reads OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL
// (http/protobuf, the default, or grpc), OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER
// and OTEL_TRACES_SAMPLER_ARG, and OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_EXPORT_TIMEOUT,
// OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE through getenv. The
// exporters read the remaining OTLP variables (headers, timeout, certificates,
// compression) from the process environment themselves. OTEL_SDK_DISABLED=true
// or OTEL_TRACES_EXPORTER=none turn tracing off whatever the endpoint.
func Setup(ctx context.Context, getenv func(string) string, defaultService, version string) (*Tracing, error) {
	t := &Tracing{Propagator: Propagator()}
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") || getenv("OTEL_TRACES_EXPORTER") == "none" {
		return t, nil
	}
	protocol := first(getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), getenv("OTEL_EXPORTER_OTLP_PROTOCOL"), "http/protobuf")
	endpoint := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if endpoint == "" {
		if base := getenv("OTEL_EXPORTER_OTLP_ENDPOINT"); base != "" {
			endpoint = base
			if protocol != "grpc" { // the signal path goes after the base URL (OTLP spec)
				endpoint = strings.TrimRight(base, "/") + "/v1/traces"
			}
		}
	}
	if endpoint == "" {
		return t, nil
	}
	var (
		exp *otlptrace.Exporter
		err error
	)
	switch protocol {
	case "http/protobuf":
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	case "grpc":
		exp, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(endpoint))
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL: %q is not http/protobuf or grpc", protocol)
	}
	if err != nil {
		return nil, fmt.Errorf("OTLP exporter: %w", err)
	}
	sampler, err := samplerFrom(getenv)
	if err != nil {
		return nil, err
	}
	bsp, err := batchOptions(getenv)
	if err != nil {
		return nil, err
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceName(first(getenv("OTEL_SERVICE_NAME"), defaultService)),
		semconv.ServiceVersion(version),
	))
	if err != nil {
		return nil, err
	}
	t.sdk = sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, bsp...),
		sdktrace.WithSampler(sampler),
		sdktrace.WithResource(res),
	)
	t.Provider, t.Endpoint, t.Protocol = t.sdk, endpoint, protocol
	return t, nil
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// samplerFrom is OTEL_TRACES_SAMPLER (default parentbased_always_on) with
// OTEL_TRACES_SAMPLER_ARG for the ratio samplers (default 1.0).
func samplerFrom(getenv func(string) string) (sdktrace.Sampler, error) {
	ratio := 1.0
	if a := getenv("OTEL_TRACES_SAMPLER_ARG"); a != "" {
		r, err := strconv.ParseFloat(a, 64)
		if err != nil || r < 0 || r > 1 {
			return nil, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG: %q is not a ratio between 0 and 1", a)
		}
		ratio = r
	}
	switch s := first(getenv("OTEL_TRACES_SAMPLER"), "parentbased_always_on"); s {
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(ratio), nil
	case "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio)), nil
	default:
		return nil, fmt.Errorf("OTEL_TRACES_SAMPLER: %q is not always_on, always_off, traceidratio or parentbased_*", s)
	}
}

// batchOptions reads the OTEL_BSP_* variables (delays in milliseconds).
func batchOptions(getenv func(string) string) ([]sdktrace.BatchSpanProcessorOption, error) {
	var opts []sdktrace.BatchSpanProcessorOption
	for _, v := range []struct {
		name string
		set  func(n int) sdktrace.BatchSpanProcessorOption
	}{
		{"OTEL_BSP_SCHEDULE_DELAY", func(n int) sdktrace.BatchSpanProcessorOption {
			return sdktrace.WithBatchTimeout(time.Duration(n) * time.Millisecond)
		}},
		{"OTEL_BSP_EXPORT_TIMEOUT", func(n int) sdktrace.BatchSpanProcessorOption {
			return sdktrace.WithExportTimeout(time.Duration(n) * time.Millisecond)
		}},
		{"OTEL_BSP_MAX_QUEUE_SIZE", sdktrace.WithMaxQueueSize},
		{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", sdktrace.WithMaxExportBatchSize},
	} {
		s := getenv(v.name)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%s: %q is not a positive integer", v.name, s)
		}
		opts = append(opts, v.set(n))
	}
	return opts, nil
}
