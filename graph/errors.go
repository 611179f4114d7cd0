package graph

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"linli/apperr"
	"linli/authz"
	"linli/ent"
	"linli/ent/privacy"
	"linli/reqlog"
	"linli/viewer"
)

// presentError turns every error into a GraphQL error with extensions.code.
// Domain errors keep their message; unexpected errors are logged with the
// request id and shown as INTERNAL.
func presentError(ctx context.Context, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	code, field, msg := classify(ctx, err)
	if code == apperr.Internal {
		reqlog.From(ctx).Error("internal error", slog.String("error", err.Error()), slog.Any("path", gqlErr.Path))
		msg = "internal error; request id " + reqlog.ID(ctx)
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
	if errors.As(err, &gqlErr) && gqlErr.Err == nil {
		// Parser and validator errors, and errors gqlgen made for bad input.
		if c, ok := gqlErr.Extensions["code"].(string); ok && c != "" {
			switch c {
			case "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "PERSISTED_QUERY_NOT_FOUND":
				return apperr.ValidationFailed, "", ""
			case "COMPLEXITY_LIMIT_EXCEEDED":
				return apperr.QueryTooComplex, "", ""
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
		return apperr.Internal, "", "request timed out"
	}
	return apperr.Internal, "", ""
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
