package graph

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"linli/apperr"
)

// uploadTransport is the GraphQL multipart request spec (file uploads:
// importSpreadsheet), gqlgen's transport.MultipartForm with linli's rules
// around it:
//
//   - the whole request is bounded by the upload limit (-max-upload-bytes),
//     which app's withLimits applies to multipart bodies as it applies the
//     body limit to JSON ones (413, and the body-arrival deadline); the
//     operations and map parts, which are a JSON request's body, are
//     bounded by the body limit (-max-body-bytes), so a multipart request
//     cannot carry a larger query than a JSON POST;
//   - the request must carry an Authorization header: a browser sends a
//     multipart form cross-site without a CORS preflight, and only a header
//     like Authorization forces one, so no other site can make a visitor's
//     browser run mutations (register, requestPhoneCode) this way;
//   - files are held in memory (the body was read whole already), never
//     spilled to temporary files.
type uploadTransport struct {
	maxUpload, maxOperations int64
}

func (t uploadTransport) Supports(r *http.Request) bool { return transport.MultipartForm{}.Supports(r) }

func (t uploadTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	if r.Header.Get("Authorization") == "" {
		writeError(w, http.StatusUnauthorized, apperr.Unauthenticated, "uploads need a signed-in request (Authorization: Bearer <token>)")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, t.maxUpload))
	if err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			writeError(w, http.StatusRequestEntityTooLarge, apperr.ValidationFailed, "request body too large")
			return
		}
		writeError(w, http.StatusBadRequest, apperr.ValidationFailed, "could not read the request body")
		return
	}
	if status, msg := checkOperationParts(r, body, t.maxOperations); status != 0 {
		writeError(w, status, apperr.ValidationFailed, msg)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	transport.MultipartForm{MaxUploadSize: t.maxUpload, MaxMemory: t.maxUpload + 1}.Do(w, r, exec)
}

// checkOperationParts bounds the operations and map parts, which come first
// (the spec's order; gqlgen refuses any other), to limit bytes together.
func checkOperationParts(r *http.Request, body []byte, limit int64) (int, string) {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return http.StatusBadRequest, "a multipart request needs a boundary"
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	left := limit
	for range 2 {
		part, err := mr.NextPart()
		if err != nil {
			return http.StatusUnprocessableEntity, "the first parts must be operations and map"
		}
		n, _ := io.Copy(io.Discard, io.LimitReader(part, left+1))
		if left -= n; left < 0 {
			return http.StatusRequestEntityTooLarge, "the operations of an upload are bounded like a request body"
		}
	}
	return 0, ""
}
