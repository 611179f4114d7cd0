package graph

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"linli/apperr"
)

// getTransport is GraphQL over HTTP's GET: the parameters come from the
// query string (variables and extensions as JSON objects), and serve
// decides the rest as for POST, mutations refused (GET must be safe).
type getTransport struct{}

func (getTransport) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && r.Header.Get("Upgrade") == ""
}

func (getTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	params, refusal := parseQueryString(r.URL.RawQuery)
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	serve(w, r, exec, params, refusal)
}

// parseQueryString decodes a GET request's parameters; refusal says why it
// could not.
func parseQueryString(raw string) (params *graphql.RawParams, refusal string) {
	params = &graphql.RawParams{}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return params, "malformed query string"
	}
	params.Query = q.Get("query")
	params.OperationName = q.Get("operationName")
	for name, into := range map[string]*map[string]any{"variables": &params.Variables, "extensions": &params.Extensions} {
		s := q.Get(name)
		if s == "" {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		if dec.Decode(into) != nil {
			return params, name + " must be a JSON object"
		}
	}
	return params, ""
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
