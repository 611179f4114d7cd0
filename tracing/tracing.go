// Package tracing is linli's OpenTelemetry tracing: off unless the standard
// OTEL_* environment variables ask for it, and then exported over OTLP/HTTP.
// It makes the spans of an HTTP request (HTTP), of a GraphQL operation
// (Extension), of every database statement (OpenDB) and of a background job
// run (StartJob), and gives log lines the trace id (LogAttrs).
//
// Never recorded: GraphQL variables, SQL arguments, query strings, request
// or response bodies, headers. A statement's text is recorded (linli's
// statements carry their values as arguments, never spliced into the text).
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// instrumentation is the name of linli's tracer.
const instrumentation = "linli"

// enabled is set by Setup (or Install) when spans are exported: the
// wrappers install nothing while it is false, so tracing off costs nothing
// on the request path.
var enabled atomic.Bool

// Enabled reports whether tracing is on in this process.
func Enabled() bool { return enabled.Load() }

// tracer is the tracer every linli span starts from (otel's global no-op
// until Setup installs a provider).
func tracer() trace.Tracer { return otel.Tracer(instrumentation) }

// Wanted reports whether the environment asks for traces, by the OTel
// specification's variables: OTEL_SDK_DISABLED=true turns everything off;
// OTEL_TRACES_EXPORTER=none turns traces off, =otlp on (any other exporter
// is an error: linli has only OTLP); otherwise an OTLP endpoint
// (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT) turns
// them on. getenv is os.Getenv outside tests.
func Wanted(getenv func(string) string) (bool, error) {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return false, nil
	}
	switch exp := strings.ToLower(strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER"))); exp {
	case "none":
		return false, nil
	case "otlp":
	case "":
		if getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" {
			return false, nil
		}
	default:
		return false, fmt.Errorf("tracing: OTEL_TRACES_EXPORTER=%q is not supported: linli exports traces over OTLP only (otlp or none)", exp)
	}
	proto := getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if proto == "" {
		proto = getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	if proto != "" && proto != "http/protobuf" {
		return false, fmt.Errorf("tracing: OTLP protocol %q is not supported: linli sends http/protobuf", proto)
	}
	return true, nil
}

// Setup turns tracing on when the environment asks for it (Wanted): an
// OTLP/HTTP exporter configured by the OTEL_EXPORTER_OTLP_* variables, the
// sampler of OTEL_TRACES_SAMPLER (parent-based, always on by default), the
// batch settings of OTEL_BSP_*, the resource of OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES (service.name "linli" by default) and the W3C
// trace context propagator. Call it before the database is opened. The
// returned shutdown flushes the spans still buffered; it is a no-op when
// tracing stayed off.
func Setup(ctx context.Context) (shutdown func(context.Context) error, err error) {
	noop := func(context.Context) error { return nil }
	on, err := Wanted(os.Getenv)
	if err != nil || !on {
		return noop, err
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return noop, fmt.Errorf("tracing: exporter: %w", err)
	}
	tp, err := newProvider(ctx, sdktrace.WithBatcher(exp))
	if err != nil {
		return noop, err
	}
	Install(tp)
	return tp.Shutdown, nil
}

func newProvider(ctx context.Context, opts ...sdktrace.TracerProviderOption) (*sdktrace.TracerProvider, error) {
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "linli")),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	return sdktrace.NewTracerProvider(append([]sdktrace.TracerProviderOption{sdktrace.WithResource(res)}, opts...)...), nil
}

// Install makes tp the provider of linli's spans and turns the wrappers on
// (Setup's second half; tests pass a provider with an in-memory recorder).
func Install(tp trace.TracerProvider) {
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	enabled.Store(true)
}

// LogAttrs are the attributes a log line made under ctx carries: the trace
// and span ids when a span is recorded, none otherwise.
func LogAttrs(ctx context.Context) []any {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return nil
	}
	return []any{slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String())}
}

// Logger is log with ctx's trace id (LogAttrs), or log itself.
func Logger(ctx context.Context, log *slog.Logger) *slog.Logger {
	if attrs := LogAttrs(ctx); attrs != nil {
		return log.With(attrs...)
	}
	return log
}

// StartJob starts the span of one run of a background job of kind; end it
// with End. With tracing off it costs a context lookup.
func StartJob(ctx context.Context, kind string, id int) (context.Context, trace.Span) {
	if !Enabled() {
		return ctx, trace.SpanFromContext(ctx)
	}
	return tracer().Start(ctx, "job "+kind, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attribute.String("linli.job.kind", kind), attribute.Int("linli.job.id", id)))
}

// End ends span, marking it failed when err is not nil (the status says
// "failed" only: an error's text may quote what a resident wrote).
func End(span trace.Span, err error) {
	if !span.IsRecording() {
		return
	}
	if err != nil {
		span.SetStatus(codes.Error, "failed")
	}
	span.End()
}
