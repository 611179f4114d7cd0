package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"reflect"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"linli/apperr"
)

// postTransport is the JSON POST transport (GraphQL over HTTP). It differs
// from gqlgen's transport.POST (whose Supports it keeps: a POST with
// Content-Type application/json) in what serve decides (media type by
// q-value, status codes, request errors without data; see http.go) and:
//
//   - a successful response is written as {"data":…} around the bytes the
//     executor produced. gqlgen encodes the whole response with
//     encoding/json, which re-scans and compacts the data it was handed
//     (json.RawMessage), a pass over every byte that cost 7% of the CPU of a
//     page of activities. Responses with errors or extensions still go
//     through encoding/json.
//   - a body that is not a JSON object is refused with a coded error instead
//     of a message that echoes the body back; a JSON array (a batch, as
//     Apollo's BatchHttpLink sends) is refused as such: linli does not run
//     batches (see the README).
type postTransport struct {
	transport.POST
}

func (t postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		serve(w, r, exec, &graphql.RawParams{}, "could not read the request body", nil)
		return
	}
	params, refusal := parseBody(body)
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	serve(w, r, exec, params, refusal, nil)
}

// parseBody decodes a JSON request body; refusal says why it could not,
// without echoing it.
func parseBody(body []byte) (params *graphql.RawParams, refusal string) {
	params = &graphql.RawParams{}
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '[' {
		return params, "batching is not supported: send one operation per request, as a JSON object with query, variables and operationName"
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(params); err != nil {
		return params, "the request body must be a JSON object with query, variables and operationName"
	}
	return params, ""
}

// decodeParams decodes a JSON request body, or answers it with a coded
// error that does not echo it.
func decodeParams(w http.ResponseWriter, body []byte) (*graphql.RawParams, bool) {
	params, refusal := parseBody(body)
	if refusal != "" {
		writeError(w, http.StatusBadRequest, apperr.ValidationFailed, refusal)
		return nil, false
	}
	return params, true
}

// responseFields are the indexes of graphql.Response's fields other than
// Data. A response is framed by hand only when all of them are zero or
// empty, so a
// field a gqlgen upgrade adds is never dropped: such a response goes to
// encoding/json (TestPostTransportMatchesGqlgen checks the framing against
// gqlgen's own transport).
var responseFields = func() []int {
	var idx []int
	t := reflect.TypeFor[graphql.Response]()
	for i := range t.NumField() {
		if t.Field(i).Name != "Data" {
			idx = append(idx, i)
		}
	}
	return idx
}()

func dataOnly(resp *graphql.Response) bool {
	v := reflect.ValueOf(resp).Elem()
	for _, i := range responseFields {
		switch f := v.Field(i); f.Kind() {
		case reflect.Map, reflect.Slice:
			if f.Len() > 0 {
				return false
			}
		default:
			if !f.IsZero() {
				return false
			}
		}
	}
	return true
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
	if dataOnly(resp) {
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
