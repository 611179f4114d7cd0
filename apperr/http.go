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
