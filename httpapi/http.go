package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"linli/apperr"
)

// GraphQL over HTTP, for POST and GET alike: the transports decode their
// request into graphql.RawParams and hand it to serve, the one place that
// decides the response's media type and status:
//
//   - the media type is the one of application/json and
//     application/graphql-response+json the Accept header prefers
//     (negotiate); an Accept header that accepts neither is 406.
//   - a request that is not a GraphQL-over-HTTP request (a body that is not
//     a JSON object, parameters of the wrong type, neither a query nor a
//     persisted query's hash) is 400.
//   - a request error (the document does not parse or validate, variables
//     do not coerce, a limit refuses it before it runs) is answered without
//     a data entry: 200 under application/json (the spec's advice for
//     legacy clients, which read the body whatever the status), 400 under
//     application/graphql-response+json (which must not answer a response
//     without data with 2xx).
//   - an operation the request cannot carry is refused: a subscription
//     needs a stream (SSE or the websocket) and is 406 here; a mutation
//     over GET is 405.
//   - anything that ran is 200, with the executor's data.

const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// serve runs one decoded GraphQL-over-HTTP request. refusal, when set, is
// why the request could not be decoded (a client-facing message that does
// not echo the request). done, if not nil, sees an answer that ran before it
// is written (GET sets its caching headers).
func serve(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, params *graphql.RawParams, refusal string, done func(http.ResponseWriter, *http.Request, *graphql.Response)) {
	media := negotiate(acceptHeader(r))
	if media == "" {
		writeError(w, http.StatusNotAcceptable, apperr.ValidationFailed,
			"the Accept header accepts no media type this server answers in: accept application/graphql-response+json or application/json")
		return
	}
	w.Header().Set("Content-Type", media)
	if refusal != "" {
		writeError(w, http.StatusBadRequest, apperr.ValidationFailed, refusal)
		return
	}
	params.Headers = r.Header
	ctx := r.Context()
	oc, errs := exec.CreateOperationContext(ctx, params)
	answer(w, r, exec, ctx, params, oc, errs, media, done)
}

// answer answers an operation whose context was created (or refused with
// errs) as GraphQL over HTTP, in media: serve's second half, and the SSE
// transport's when the client prefers JSON for a query or mutation.
func answer(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, ctx context.Context, params *graphql.RawParams,
	oc *graphql.OperationContext, errs gqlerror.List, media string, done func(http.ResponseWriter, *http.Request, *graphql.Response)) {
	w.Header().Set("Content-Type", media)
	if errs != nil {
		// Without a query or a persisted query's hash it is no GraphQL
		// request; the executor (or trusted documents) still says what is
		// missing.
		noQuery := params.Query == "" && params.Extensions["persistedQuery"] == nil
		status := http.StatusOK
		if media == mediaGraphQLResponse || noQuery {
			status = http.StatusBadRequest
		}
		w.WriteHeader(status)
		writeRequestErrors(w, exec.DispatchError(graphql.WithOperationContext(ctx, oc), errs))
		return
	}
	switch op := oc.Operation.Operation; {
	case op == ast.Subscription:
		writeError(w, http.StatusNotAcceptable, apperr.ValidationFailed,
			"a subscription needs a stream: send it with Accept: text/event-stream (Server-Sent Events) or over the websocket")
		return
	case op == ast.Mutation && r.Method != http.MethodPost:
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, apperr.ValidationFailed, "GET runs queries only; send mutations with POST")
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, oc)
	resp := responses(ctx)
	if done != nil {
		done(w, r, resp)
	}
	writeResponse(w, resp)
}

func acceptHeader(r *http.Request) string { return strings.Join(r.Header.Values("Accept"), ",") }

// negotiate picks the response media type from an Accept header: of the
// two JSON types this server writes, the one with the higher q-value (taken
// from the most specific range that matches it, so "application/json;q=0,
// */*" excludes application/json). On a tie the one named explicitly wins,
// then the one listed first, then application/json. No header means
// application/json; "" means the client accepts neither.
func negotiate(accept string) string {
	if strings.TrimSpace(accept) == "" {
		return mediaJSON
	}
	best, _ := rank(accept)
	if best == mediaEventStream {
		// Ranked above both JSON types; of those, the better one.
		best = rankOf(accept, jsonTypes)
	}
	return best
}

// PrefersEventStream reports whether the client ranks text/event-stream
// (named explicitly: a wildcard does not ask for a stream) above both JSON
// types, by q-value, then by the order it lists them. urql, for one, sends
// "application/graphql-response+json, application/graphql+json,
// application/json, text/event-stream, multipart/mixed" for every
// operation: it takes a stream where one is needed (a subscription) and
// prefers JSON for the rest.
func PrefersEventStream(r *http.Request) bool {
	best, _ := rank(acceptHeader(r))
	return best == mediaEventStream
}

// AcceptsEventStream reports whether a request accepts text/event-stream at
// all (named explicitly, with a q-value above 0).
func AcceptsEventStream(r *http.Request) bool {
	_, stream := rank(acceptHeader(r))
	return stream
}

const mediaEventStream = "text/event-stream"

var (
	jsonTypes = []string{mediaJSON, mediaGraphQLResponse}
	allTypes  = []string{mediaJSON, mediaGraphQLResponse, mediaEventStream}
)

// rank returns the best of the JSON types and the event stream by the
// Accept header, and whether the event stream is accepted at all.
func rank(accept string) (best string, eventStream bool) {
	prefs := preferences(accept, allTypes)
	return pick(prefs, allTypes), prefs[2].specificity == 3 && prefs[2].q > 0
}

func rankOf(accept string, candidates []string) string {
	return pick(preferences(accept, candidates), candidates)
}

type preference struct {
	q           float64
	specificity int // 0: no range matched; 1 */*, 2 type/*, 3 the type itself
	position    int
}

// preferences weighs each candidate by the most specific range of accept
// that matches it. The event stream counts only where named.
func preferences(accept string, candidates []string) []preference {
	prefs := make([]preference, len(candidates))
	position := 0
	for part := range strings.SplitSeq(accept, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		position++
		media, params, err := mime.ParseMediaType(part)
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(s, 64); err != nil || q < 0 || q > 1 {
				continue
			}
		}
		for i, c := range candidates {
			specificity := 0
			switch {
			case media == c:
				specificity = 3
			case c == mediaEventStream:
			case media == "application/*":
				specificity = 2
			case media == "*/*":
				specificity = 1
			}
			p := &prefs[i]
			if specificity > p.specificity || (specificity == p.specificity && specificity > 0 && q > p.q) {
				*p = preference{q: q, specificity: specificity, position: position}
			}
		}
	}
	return prefs
}

// pick is the candidate with the highest q, then the most specific range,
// then listed first, then first among candidates; "" when none is accepted.
func pick(prefs []preference, candidates []string) string {
	best := -1
	for i, p := range prefs {
		if p.specificity == 0 || p.q <= 0 {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		b := prefs[best]
		if p.q > b.q || (p.q == b.q && (p.specificity > b.specificity || (p.specificity == b.specificity && p.position < b.position))) {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return candidates[best]
}

// requestErrors is a response to a request that did not run: errors and
// extensions, never a data entry.
type requestErrors struct {
	Errors     gqlerror.List  `json:"errors"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

func writeRequestErrors(w io.Writer, resp *graphql.Response) {
	out := requestErrors{Errors: resp.Errors, Extensions: resp.Extensions}
	if len(out.Errors) == 0 {
		out.Errors = gqlerror.List{{Message: "the request was refused", Extensions: map[string]any{"code": string(apperr.ValidationFailed)}}}
	}
	b, err := json.Marshal(out)
	if err != nil {
		b, _ = json.Marshal(requestErrors{Errors: gqlerror.List{{
			Message:    "internal error",
			Extensions: map[string]any{"code": string(apperr.Internal)},
		}}})
	}
	_, _ = w.Write(b)
}

// writeError is apperr.WriteHTTP of a code and message.
func writeError(w http.ResponseWriter, status int, code apperr.Code, msg string) {
	apperr.WriteHTTP(w, status, &apperr.Error{Code: code, Message: msg})
}
