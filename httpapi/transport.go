package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"linli/apperr"
)

// getTransport is GraphQL over HTTP's GET: the parameters come from the
// query string (variables and extensions as JSON objects, a persisted
// query's hash alone included, which a CDN or proxy can cache), and serve
// decides the rest as for POST: mutations are refused on the document the
// request settled on (a hash names it only after trusted.Extension ran),
// since GET must be safe. Answers say how they may be cached:
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
	maxAge time.Duration
}

func (getTransport) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && r.Header.Get("Upgrade") == ""
}

func (t getTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	h := w.Header()
	h.Add("Vary", "Accept, Authorization")
	h.Set("Cache-Control", "no-store")
	if tokenInURL(r) {
		h.Set("Cache-Control", noStore)
	}
	params, refusal := parseQueryString(r.URL.RawQuery)
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	serve(w, r, exec, params, refusal, t.cacheable)
}

// cacheable marks a successful answer cacheable for maxAge (see getTransport).
func (t getTransport) cacheable(w http.ResponseWriter, r *http.Request, resp *graphql.Response) {
	if t.maxAge <= 0 || resp == nil || len(resp.Errors) > 0 || tokenInURL(r) {
		return
	}
	scope := "public"
	if r.Header.Get("Authorization") != "" {
		scope = "private"
	}
	w.Header().Set("Cache-Control", fmt.Sprintf("%s, max-age=%d", scope, int(t.maxAge/time.Second)))
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
