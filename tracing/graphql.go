package tracing

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Extension is the gqlgen extension that gives each GraphQL response its
// span: a query's or mutation's execution, or one event of a subscription.
// The span is named by the operation's type and name and records both and
// whether the response carried errors (their codes); never the variables,
// the document or the data.
type Extension struct{}

var (
	_ graphql.HandlerExtension    = Extension{}
	_ graphql.ResponseInterceptor = Extension{}
)

func (Extension) ExtensionName() string                   { return "Tracing" }
func (Extension) Validate(graphql.ExecutableSchema) error { return nil }

func (Extension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	typ, name := "query", oc.OperationName
	if oc.Operation != nil {
		typ = string(oc.Operation.Operation)
		if oc.Operation.Name != "" {
			name = oc.Operation.Name
		}
	}
	if len(name) > 100 {
		name = name[:100]
	}
	spanName := typ
	if name != "" {
		spanName += " " + name
	}
	ctx, span := tracer().Start(ctx, spanName, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(
			attribute.String("graphql.operation.type", typ),
			attribute.String("graphql.operation.name", name),
		))
	defer span.End()
	resp := next(ctx)
	if resp != nil && len(resp.Errors) > 0 {
		codesSeen := make([]string, 0, len(resp.Errors))
		for _, e := range resp.Errors {
			if c, ok := e.Extensions["code"]; ok && len(codesSeen) < 10 {
				codesSeen = append(codesSeen, fmt.Sprint(c))
			}
		}
		span.SetAttributes(attribute.StringSlice("linli.error.codes", codesSeen))
		span.SetStatus(codes.Error, "")
	}
	return resp
}
