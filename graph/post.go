package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"linli/apperr"
)

// postTransport is the JSON POST transport (GraphQL over HTTP) with two
// differences from gqlgen's transport.POST:
//
//   - a successful response is written as {"data":…} around the bytes the
//     executor produced. gqlgen encodes the whole response with
//     encoding/json, which re-scans and compacts the data it was handed
//     (json.RawMessage), a pass over every byte that cost 7% of the CPU of a
//     page of activities. Responses with errors or extensions still go
//     through encoding/json.
//   - a body that is not a JSON object is refused with a coded error instead
//     of a message that echoes the body back.
//
// Media types and status codes follow transport.POST: application/json
// unless the client asks for application/graphql-response+json; a request
// that does not parse or validate is 422 under application/json and 400
// under application/graphql-response+json.
type postTransport struct {
	transport.POST
}

const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

func (t postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	media := responseMedia(r.Header.Get("Accept"))
	w.Header().Set("Content-Type", media)
	start := graphql.Now()

	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, apperr.ValidationFailed, "could not read the request body")
		return
	}
	params, ok := decodeParams(w, body)
	if !ok {
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	oc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		status := http.StatusOK
		if errcode.GetErrorKind(errs) == errcode.KindProtocol {
			status = http.StatusUnprocessableEntity
			if media == mediaGraphQLResponse {
				status = http.StatusBadRequest
			}
		}
		w.WriteHeader(status)
		writeResponse(w, exec.DispatchError(graphql.WithOperationContext(ctx, oc), errs))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, oc)
	writeResponse(w, responses(ctx))
}

// decodeParams decodes a JSON request body, or answers it with a coded
// error that does not echo it.
func decodeParams(w http.ResponseWriter, body []byte) (*graphql.RawParams, bool) {
	params := &graphql.RawParams{}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(params); err != nil {
		writeError(w, http.StatusBadRequest, apperr.ValidationFailed, "the request body must be a JSON object with query, variables and operationName")
		return nil, false
	}
	return params, true
}

// responseMedia picks the response media type from an Accept header the
// way transport.POST does: the first type it knows wins, an empty header
// means application/json, and one naming nothing it knows means
// application/graphql-response+json.
func responseMedia(accept string) string {
	if accept == "" {
		return mediaJSON
	}
	for part := range strings.SplitSeq(accept, ",") {
		media, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch media {
		case "*/*", "application/*", mediaJSON:
			return mediaJSON
		case mediaGraphQLResponse:
			return mediaGraphQLResponse
		}
	}
	return mediaGraphQLResponse
}

var (
	dataOpen  = []byte(`{"data":`)
	dataClose = []byte("}")
	null      = []byte("null")
)

// writeResponse writes one GraphQL response. Data alone is framed by hand:
// the executor's bytes are already compact JSON.
func writeResponse(w io.Writer, resp *graphql.Response) {
	if resp == nil {
		resp = &graphql.Response{Errors: gqlerror.List{{Message: "no response"}}}
	}
	if len(resp.Errors) == 0 && len(resp.Extensions) == 0 && resp.Label == "" && resp.Path == nil && resp.HasNext == nil {
		data := []byte(resp.Data)
		if len(data) == 0 {
			data = null
		}
		_, _ = w.Write(dataOpen)
		_, _ = w.Write(data)
		_, _ = w.Write(dataClose)
		return
	}
	b, err := json.Marshal(resp)
	if err != nil {
		// The executor wrote data encoding/json cannot read: say so rather
		// than send a broken body.
		b, _ = json.Marshal(&graphql.Response{Errors: gqlerror.List{{
			Message:    "internal error",
			Extensions: map[string]any{"code": string(apperr.Internal)},
		}}})
	}
	_, _ = w.Write(b)
}
