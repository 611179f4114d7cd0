package apperr

import (
	"encoding/json"
	"net/http"
)

// WriteHTTP is the one writer of an error answered outside the GraphQL
// executor (bodies refused before parsing, uploads, exports, streams): the
// GraphQL error shape with its code (and field), as JSON, unless the handler
// already chose application/graphql-response+json.
func WriteHTTP(w http.ResponseWriter, status int, e *Error) {
	if ct := w.Header().Get("Content-Type"); ct != "application/graphql-response+json" {
		w.Header().Set("Content-Type", "application/json")
	}
	ext := map[string]any{"code": string(e.Code)}
	if e.Field != "" {
		ext["field"] = e.Field
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": e.Message, "extensions": ext}},
	})
}

// HTTPStatus is the status an error with code c is answered with outside
// the GraphQL executor (inside it, GraphQL over HTTP decides: 200).
func HTTPStatus(c Code) int {
	switch c {
	case Unauthenticated:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case ValidationFailed:
		return http.StatusBadRequest
	case RateLimited:
		return http.StatusTooManyRequests
	case Unavailable:
		return http.StatusServiceUnavailable
	case Timeout:
		return http.StatusRequestTimeout
	default:
		return http.StatusInternalServerError
	}
}
