package graph

import (
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"linli/apperr"
)

// getTransport is gqlgen's GET transport with every refusal coded: gqlgen
// answers a bad query string, bad variables or a mutation over GET with a
// bare message.
type getTransport struct {
	transport.GET
	tokens int
}

func (t getTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, apperr.ValidationFailed, "malformed query string")
		return
	}
	for _, name := range []string{"variables", "extensions"} {
		if s := q.Get(name); s != "" {
			var m map[string]any
			if json.Unmarshal([]byte(s), &m) != nil {
				writeError(w, http.StatusBadRequest, apperr.ValidationFailed, name+" must be a JSON object")
				return
			}
		}
	}
	if t.mutates(q.Get("query"), q.Get("operationName")) {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, apperr.ValidationFailed, "GET runs queries only; send mutations and subscriptions with POST")
		return
	}
	t.GET.Do(w, r, exec)
}

// mutates reports whether the operation to run is not a query. A query that
// does not parse is left for gqlgen to report.
func (t getTransport) mutates(query, operation string) bool {
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, t.tokens)
	if err != nil {
		return false
	}
	op := doc.Operations.ForName(operation)
	return op != nil && op.Operation != ast.Query
}

// unsupported answers what no other transport takes: the API speaks JSON
// over POST, queries over GET, and the transports added before it.
type unsupported struct{}

func (unsupported) Supports(*http.Request) bool { return true }

func (unsupported) Do(w http.ResponseWriter, r *http.Request, _ graphql.GraphExecutor) {
	if r.Method == http.MethodPost {
		writeError(w, http.StatusUnsupportedMediaType, apperr.ValidationFailed, "send the request as application/json")
		return
	}
	w.Header().Set("Allow", "GET, POST, OPTIONS")
	writeError(w, http.StatusMethodNotAllowed, apperr.ValidationFailed, "use GET for queries or POST")
}

// writeError writes a GraphQL response holding one coded error, for requests
// refused before GraphQL execution.
func writeError(w http.ResponseWriter, status int, code apperr.Code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": string(code)}}},
	})
}
