package tracing

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"
)

func TestWanted(t *testing.T) {
	for _, c := range []struct {
		name    string
		env     map[string]string
		on, bad bool
	}{
		{"nothing set: off", nil, false, false},
		{"an endpoint: on", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, true, false},
		{"a traces endpoint: on", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, true, false},
		{"exporter otlp without endpoint: on (the default endpoint)", map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true, false},
		{"exporter none wins over an endpoint", map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, false, false},
		{"SDK disabled wins", map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, false, false},
		{"SDK disabled=false is on", map[string]string{"OTEL_SDK_DISABLED": "false", "OTEL_TRACES_EXPORTER": "otlp"}, true, false},
		{"another exporter: refused", map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, false, true},
		{"grpc: refused", map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, false, true},
		{"http/protobuf for traces", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			on, err := Wanted(func(k string) string { return c.env[k] })
			if on != c.on || (err != nil) != c.bad {
				t.Fatalf("Wanted = %v, %v; want %v, error %v", on, err, c.on, c.bad)
			}
		})
	}
}

func TestRouteHidesSecrets(t *testing.T) {
	for in, want := range map[string]string{
		"/graphql":                            "/graphql",
		"/calendar/s3cr3t-token.ics":          "/calendar/…",
		"/qr/12345":                           "/qr/…",
		"/exports/activities/7/sign-in-sheet": "/exports/…",
	} {
		if got := Route(in); got != want {
			t.Errorf("Route(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStatementName(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT "people"."id" FROM "people"`:   "SELECT",
		"\n  insert into x values ($1)":        "INSERT",
		"WITH a AS (SELECT 1) SELECT * FROM a": "WITH",
		"":                                     "SQL",
	} {
		if got := statementName(in); got != want {
			t.Errorf("statementName(%q) = %q, want %q", in, got, want)
		}
	}
}

// Off, the wrappers are not there at all: the handler is the one given and
// the database handle is sql.Open's, so tracing off costs nothing per
// request or statement (reqlog's one context lookup and a job's aside).
func TestOffInstallsNothing(t *testing.T) {
	was := enabled.Load()
	enabled.Store(false)
	defer enabled.Store(was)
	h := http.NotFoundHandler()
	if got := HTTP(h); fmt.Sprintf("%p", got) != fmt.Sprintf("%p", h) {
		t.Fatal("HTTP wrapped the handler with tracing off")
	}
	db, err := OpenDB("sqlite", filepath.Join(t.TempDir(), "off.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.Raw(func(c any) error {
		if _, wrapped := c.(*conn_); wrapped {
			t.Error("OpenDB wrapped the connection with tracing off")
		}
		return nil
	})
	if _, span := StartJob(context.Background(), "k", 1); span.IsRecording() {
		t.Error("a job span is recorded with tracing off")
	}
}
