package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"linli/apperr"
	"linli/authz"
	"linli/ent"
	"linli/ent/privacy"
	"linli/reqlog"
	"linli/store"
	"linli/viewer"
)

// presentError turns every error into a GraphQL error with extensions.code.
// Domain errors keep their message; unexpected errors are shown as INTERNAL
// with the request id, and logged once per response by logFailures.
func presentError(ctx context.Context, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	code, field, msg := classify(ctx, err)
	switch code {
	case apperr.Internal:
		msg = "internal error; request id " + reqlog.ID(ctx)
	case apperr.Timeout:
		msg = "the request ran past its deadline; retry it (with the same idempotency key)"
	case apperr.Unavailable:
		msg = "the service is unavailable for now; retry later (with the same idempotency key)"
	}
	if msg != "" {
		gqlErr.Message = msg
	}
	if gqlErr.Extensions == nil {
		gqlErr.Extensions = map[string]any{}
	}
	gqlErr.Extensions["code"] = string(code)
	if field != "" {
		gqlErr.Extensions["field"] = field
	}
	return gqlErr
}

func classify(ctx context.Context, err error) (code apperr.Code, field, msg string) {
	if e, ok := apperr.As(err); ok {
		return e.Code, e.Field, e.Message
	}
	var gqlErr *gqlerror.Error
	isGQL := errors.As(err, &gqlErr)
	if isGQL && gqlErr.Err == nil {
		// Parser and validator errors, and errors gqlgen made for bad input.
		if c, ok := gqlErr.Extensions["code"].(string); ok && c != "" {
			switch c {
			case "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "PERSISTED_QUERY_NOT_FOUND":
				return apperr.ValidationFailed, "", ""
			case "COMPLEXITY_LIMIT_EXCEEDED":
				return apperr.QueryTooComplex, "", ""
			case "NOT_FOUND":
				// entgql's "Could not resolve to a node with the global id
				// of '…'" names the internal ID, which the API never shows.
				return apperr.NotFound, "", "not found"
			}
			return apperr.Code(c), "", ""
		}
		return apperr.ValidationFailed, "", ""
	}
	var nf *ent.NotFoundError
	var ve *ent.ValidationError
	var ce *ent.ConstraintError
	switch {
	case errors.Is(err, authz.ErrUnauthenticated):
		return apperr.Unauthenticated, "", "authentication required"
	case errors.Is(err, authz.ErrForbidden), errors.Is(err, privacy.Deny):
		if viewer.FromContext(ctx) == nil {
			return apperr.Unauthenticated, "", "authentication required"
		}
		return apperr.Forbidden, "", "you are not allowed to do this"
	case errors.As(err, &nf):
		return apperr.NotFound, "", "not found"
	case errors.As(err, &ve):
		return apperr.ValidationFailed, camel(ve.Name), ve.Error()
	case errors.As(err, &ce):
		return apperr.Conflict, "", "conflicts with existing data"
	case errors.Is(err, context.DeadlineExceeded):
		return apperr.Timeout, "", ""
	case store.IsUnavailable(err):
		return apperr.Unavailable, "", ""
	case ctx.Err() == context.DeadlineExceeded:
		// The driver's own answer to a cancelled statement (PostgreSQL's
		// "canceling statement due to user request").
		return apperr.Timeout, "", ""
	case errors.Is(err, context.Canceled), ctx.Err() == context.Canceled:
		// The client went away (or the server is shutting down): nobody
		// reads this answer, and it is no fault of the server's.
		return apperr.Unavailable, "", "the request was cancelled"
	case isGQL && gqlErr.Path.String() != graphql.GetPath(ctx).String():
		// gqlgen puts every error on the path of the field it came from,
		// but an error decoding an argument (an ID that is not a number, a
		// cursor that does not decode) on the argument's own path.
		name := lastName(gqlErr.Path)
		return apperr.ValidationFailed, name, "invalid value for " + name
	}
	return apperr.Internal, "", ""
}

func lastName(p ast.Path) string {
	for i := len(p) - 1; i >= 0; i-- {
		if n, ok := p[i].(ast.PathName); ok {
			return string(n)
		}
	}
	return ""
}

// logFailures logs a response's server-side failures (INTERNAL, TIMEOUT,
// UNAVAILABLE) as one line: a query of twenty failing aliases is one
// failure, not twenty log lines.
func logFailures(ctx context.Context, resp *graphql.Response) {
	if resp == nil {
		return
	}
	var first *gqlerror.Error
	n, internal := 0, false
	for _, e := range resp.Errors {
		switch c, _ := e.Extensions["code"].(string); apperr.Code(c) {
		case apperr.Internal:
			internal = true
		case apperr.Timeout, apperr.Unavailable:
		default:
			continue
		}
		if n++; first == nil {
			first = e
		}
	}
	if first == nil {
		return
	}
	cause := first.Message
	if first.Err != nil {
		cause = first.Err.Error()
	}
	level := slog.LevelWarn
	switch {
	case ctx.Err() == context.Canceled:
		// A client that hangs up mid-request (or drops a socket with
		// operations in flight) is routine, and must not be a way to flood
		// the error log.
		level = slog.LevelDebug
	case internal:
		level = slog.LevelError
	}
	reqlog.From(ctx).Log(ctx, level, "request failed", slog.Int("errors", n),
		slog.Any("code", first.Extensions["code"]), slog.String("error", cause), slog.String("path", first.Path.String()))
}

// camel turns an Ent field name (display_name) into its GraphQL name (displayName).
func camel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
