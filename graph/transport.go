package graph

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"linli/apperr"
)

// getTransport runs queries sent as GET (GraphQL over HTTP), including
// persisted queries named by hash alone (extensions=…), which a CDN or
// proxy can cache. It differs from gqlgen's transport.GET in that every
// refusal is coded (a bad query string, bad variables, a mutation), the
// mutation check runs on the document the request settled on (a hash
// names it only after trusted.Extension ran), and responses say how they
// may be cached:
//
//   - Vary: Accept, Authorization: an answer depends on the URL, on who
//     asks (the bearer token) and on the media type asked for;
//   - with maxAge > 0, an answer without errors is "public, max-age=N"
//     when the request carried no Authorization (anonymous reads are the
//     same for everyone) and "private, max-age=N" when it did (only the
//     client's own cache may keep it: a shared cache must not hand one
//     person's answer to another, and not every CDN honours Vary);
//   - anything else (maxAge 0, the default, and every answer with errors:
//     a TIMEOUT must not be replayed) is "no-store".
type getTransport struct {
	transport.GET
	maxAge time.Duration
}

func (t getTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	start := graphql.Now()
	h := w.Header()
	h.Add("Vary", "Accept, Authorization")
	h.Set("Cache-Control", "no-store")
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, apperr.ValidationFailed, "malformed query string")
		return
	}
	params := &graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName"), Headers: r.Header}
	for name, into := range map[string]*map[string]any{"variables": &params.Variables, "extensions": &params.Extensions} {
		if s := q.Get(name); s != "" {
			dec := json.NewDecoder(strings.NewReader(s))
			dec.UseNumber()
			if dec.Decode(into) != nil {
				writeError(w, http.StatusBadRequest, apperr.ValidationFailed, name+" must be a JSON object")
				return
			}
		}
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	media := responseMedia(r.Header.Get("Accept"))
	h.Set("Content-Type", media)

	oc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		w.WriteHeader(requestErrorStatus(media, errs))
		writeResponse(w, exec.DispatchError(graphql.WithOperationContext(ctx, oc), errs))
		return
	}
	if oc.Operation.Operation != ast.Query {
		h.Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, apperr.ValidationFailed, "GET runs queries only; send mutations and subscriptions with POST")
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, oc)
	resp := responses(ctx)
	if t.maxAge > 0 && resp != nil && len(resp.Errors) == 0 {
		scope := "public"
		if r.Header.Get("Authorization") != "" {
			scope = "private"
		}
		h.Set("Cache-Control", fmt.Sprintf("%s, max-age=%d", scope, int(t.maxAge/time.Second)))
	}
	writeResponse(w, resp)
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
