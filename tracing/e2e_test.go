package tracing_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"linli/app"
	"linli/jobs"
	"linli/linlitest"
	"linli/tracing"
)

// receiver is an OTLP/HTTP trace receiver: it decodes the protobuf the
// real exporter posts to /v1/traces.
type receiver struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "bad export", http.StatusBadRequest)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			rc.spans = append(rc.spans, ss.Spans...)
		}
	}
	rc.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	_, _ = w.Write(out)
}

func (rc *receiver) all() []*tracepb.Span {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]*tracepb.Span(nil), rc.spans...)
}

// waitFor polls the receiver until ok holds for the spans received.
func (rc *receiver) waitFor(t *testing.T, what string, ok func([]*tracepb.Span) bool) []*tracepb.Span {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := rc.all()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s among %d spans received: %v", what, len(s), names(s))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func names(spans []*tracepb.Span) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

func attr(s *tracepb.Span, key string) string {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return value(kv.Value)
		}
	}
	return ""
}

func value(v *commonpb.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_ArrayValue:
		var parts []string
		for _, e := range x.ArrayValue.Values {
			parts = append(parts, value(e))
		}
		return strings.Join(parts, ",")
	}
	return v.String()
}

var (
	setupOnce sync.Once
	recv      = &receiver{}
)

// setup turns tracing on for this test binary, exporting through the real
// OTLP/HTTP exporter (set by the standard variables) to recv.
func setup(t *testing.T) {
	setupOnce.Do(func() {
		srv := httptest.NewServer(recv)
		t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", srv.URL+"/v1/traces")
		t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
		t.Setenv("OTEL_SERVICE_NAME", "linli-test")
		if _, err := tracing.Setup(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !tracing.Enabled() {
			t.Fatal("tracing stayed off with an endpoint set")
		}
	})
}

// syncBuffer is a log sink the handler's goroutines share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// A GraphQL request makes a request span, an operation span under it and
// statement spans under that, one trace; no variable value or SQL argument
// is in any span; the request's log lines carry the trace id. A job run
// makes a span of its own, with its statements under it.
func TestTraceOfARequestAndAJob(t *testing.T) {
	setup(t)
	logs := &syncBuffer{}
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		// Markers that only the variables carry: they reach SQL as
		// arguments (the phone number is looked up) and must appear nowhere.
		phone := fmt.Sprintf("137%08d", time.Now().UnixNano()%100000000)
		const password = "marker-password-5417"
		res := e.Do(t, "", `mutation SignInForTrace($p: String!, $pw: String!) { login(input: {phone: $p, password: $pw}) { token } }`,
			map[string]any{"p": phone, "pw": password})
		if res.Code() == "" {
			t.Fatalf("login of an unknown phone succeeded: %+v", res)
		}

		spans := recv.waitFor(t, "request span of the login", func(s []*tracepb.Span) bool {
			for _, sp := range s {
				if sp.Name == "mutation SignInForTrace" {
					for _, p := range s {
						if bytes.Equal(p.SpanId, sp.ParentSpanId) {
							return true
						}
					}
				}
			}
			return false
		})
		var op *tracepb.Span
		for _, sp := range spans {
			if sp.Name == "mutation SignInForTrace" {
				op = sp
			}
		}
		byID := map[string]*tracepb.Span{}
		for _, sp := range spans {
			byID[string(sp.SpanId)] = sp
		}
		req := byID[string(op.ParentSpanId)]
		if req == nil || req.Name != "POST /graphql" || req.Kind != tracepb.Span_SPAN_KIND_SERVER || attr(req, "http.response.status_code") == "" {
			t.Fatalf("operation's parent is %v, want the POST /graphql server span", req)
		}
		if attr(op, "graphql.operation.type") != "mutation" || attr(op, "graphql.operation.name") != "SignInForTrace" {
			t.Errorf("operation span attributes: %v", op.Attributes)
		}
		var statements int
		for _, sp := range spans {
			if bytes.Equal(sp.ParentSpanId, op.SpanId) && attr(sp, "db.query.text") != "" {
				statements++
				if !bytes.Equal(sp.TraceId, req.TraceId) {
					t.Errorf("statement %q in another trace", sp.Name)
				}
			}
		}
		if statements == 0 {
			t.Fatalf("no statement span under the operation: %v", names(spans))
		}
		for _, sp := range spans {
			for _, kv := range sp.Attributes {
				v := value(kv.Value)
				if strings.Contains(v, phone[len(phone)-6:]) || strings.Contains(v, password) {
					t.Errorf("span %q attribute %s records a variable: %q", sp.Name, kv.Key, v)
				}
			}
		}
		traceID := hex.EncodeToString(req.TraceId)
		found := false
		for line := range strings.SplitSeq(logs.String(), "\n") {
			var l map[string]any
			if json.Unmarshal([]byte(line), &l) == nil && l["trace_id"] == traceID && l["request_id"] != nil {
				found = true
			}
		}
		if !found {
			t.Errorf("no log line of the request carries trace_id %s", traceID)
		}

		// A job run: its span, named by its kind, with its statements under it.
		kind := "tracetest." + e.Backend
		r := jobs.New(e.DB, jobs.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		r.Handle(kind, func(ctx context.Context, c *jobs.Claimed) error {
			_, err := e.DB.Client.Community.Query().Count(ctx)
			return err
		})
		if err := r.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer r.Stop(context.Background())
		if err := jobs.EnqueueNow(e.Sys(), e.Client, jobs.Job{Kind: kind}); err != nil {
			t.Fatal(err)
		}
		spans = recv.waitFor(t, "job span", func(s []*tracepb.Span) bool {
			for _, sp := range s {
				if sp.Name == "job "+kind {
					for _, st := range s {
						if bytes.Equal(st.ParentSpanId, sp.SpanId) && strings.Contains(attr(st, "db.query.text"), "communities") {
							return true
						}
					}
				}
			}
			return false
		})
		for _, sp := range spans {
			if sp.Name == "job "+kind && attr(sp, "linli.job.kind") != kind {
				t.Errorf("job span kind attribute %q", attr(sp, "linli.job.kind"))
			}
		}
	}, func(c *app.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
}
