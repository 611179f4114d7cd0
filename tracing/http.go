package tracing

import (
	"bufio"
	"net"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// HTTP wraps next with the span of each HTTP request, continuing a trace a
// W3C traceparent header names. The span's name is the method and a route
// (the path, with the secret part of a calendar feed's or a QR code's
// path cut off); the query string, headers and bodies are never recorded.
// Websocket upgrades get no request span (a socket lives for hours): each
// of their operations is traced by Extension. With tracing off (Enabled
// false when HTTP is called) next is returned as it is.
func HTTP(next http.Handler) http.Handler {
	if !Enabled() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx := otel.GetTextMapPropagator().Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		route := Route(r.URL.Path)
		ctx, span := tracer().Start(ctx, r.Method+" "+route, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(
				attribute.String("http.request.method", r.Method),
				attribute.String("http.route", route),
				attribute.String("url.scheme", scheme(r)),
			))
		defer span.End()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r.WithContext(ctx))
		span.SetAttributes(attribute.Int("http.response.status_code", sw.status))
		if sw.status >= 500 {
			span.SetStatus(codes.Error, "")
		}
	})
}

// Route is the part of path a span may show: paths whose tail is a secret
// (a calendar feed's token) or an id (a QR code) keep their first segment.
func Route(path string) string {
	for _, prefix := range []string{"/calendar/", "/qr/", "/exports/", "/rights/"} {
		if strings.HasPrefix(path, prefix) {
			return prefix + "…"
		}
	}
	if len(path) > 64 {
		return path[:64] + "…"
	}
	return path
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(s int) {
	if !w.wrote {
		w.status, w.wrote = s, true
	}
	w.ResponseWriter.WriteHeader(s)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack lets whatever upgrades the connection take it over.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Flush passes flushes on (Server-Sent Events).
func (w *statusWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }
