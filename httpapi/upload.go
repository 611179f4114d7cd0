package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"linli/apperr"
	"linli/reqlog"
	"linli/viewer"
)

// uploadTransport is the GraphQL multipart request spec (file uploads:
// importSpreadsheet). Who may send one is decided before a byte of the body
// is read:
//
//   - the request must carry an Authorization header (a browser sends a
//     multipart form cross-site without a CORS preflight, and only a header
//     like Authorization forces one, so no other site can make a visitor's
//     browser run mutations this way) that names a viewer (the app's
//     authentication already refused a bad token), and the viewer must be
//     staff: only staff import, and nobody else gets to make the server
//     hold a file;
//   - one client address has at most MaxUploadsPerAddress bodies in flight
//     (one more is 429 RATE_LIMITED), so a client cannot stall many large
//     bodies at once.
//
// The body is then read once, as a stream, part by part: the operations and
// map parts (which come first, the spec's order) together within the body
// limit (-max-body-bytes), as a JSON request's body; the whole request within
// the upload limit (-max-upload-bytes, which the app's limits set on the
// body with the body-arrival deadline). Files are held in memory, never
// spilled to temporary files.
type uploadTransport struct {
	maxUpload, maxOperations int64
	inFlight                 *perAddress
}

func (t uploadTransport) Supports(r *http.Request) bool { return IsUpload(r) }

// IsUpload reports whether r is a multipart request (GraphQL file uploads).
func IsUpload(r *http.Request) bool {
	return transport.MultipartForm{}.Supports(r)
}

func (t uploadTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	v := viewer.FromContext(r.Context())
	switch {
	case r.Header.Get("Authorization") == "" || v == nil:
		writeError(w, http.StatusUnauthorized, apperr.Unauthenticated, "uploads need a signed-in request (Authorization: Bearer <token>)")
		return
	case !v.IsStaff():
		writeError(w, http.StatusForbidden, apperr.Forbidden, "only staff upload files")
		return
	}
	release, ok := t.inFlight.take(reqlog.ClientAddr(r.Context()))
	if !ok {
		writeError(w, http.StatusTooManyRequests, apperr.RateLimited, "too many uploads in flight from this address; wait for one to finish")
		return
	}
	defer release()
	params, err := t.read(r)
	if err != nil {
		status, code, msg := BodyError(err)
		writeError(w, status, code, msg)
		return
	}
	// The body is in: the deadline bounded its arrival only.
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	serve(w, r, exec, params, "", nil)
}

// partError is a multipart request that does not follow the spec.
type partError struct {
	status int
	msg    string
}

func (e *partError) Error() string { return e.msg }

func badParts(status int, format string, args ...any) error {
	return &partError{status: status, msg: fmt.Sprintf(format, args...)}
}

// read decodes a multipart request as it arrives: operations, map, then
// the files the map names.
func (t uploadTransport) read(r *http.Request) (*graphql.RawParams, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, badParts(http.StatusBadRequest, "a multipart request needs a boundary")
	}
	left := t.maxOperations
	field := func(name string) ([]byte, error) {
		part, err := mr.NextPart()
		if err != nil {
			if isReadError(err) {
				return nil, err
			}
			return nil, badParts(http.StatusUnprocessableEntity, "the first parts must be operations and map")
		}
		if part.FormName() != name {
			return nil, badParts(http.StatusUnprocessableEntity, "the first parts must be operations and map")
		}
		b, err := io.ReadAll(io.LimitReader(part, left+1))
		if err != nil {
			return nil, err
		}
		if left -= int64(len(b)); left < 0 {
			return nil, badParts(http.StatusRequestEntityTooLarge, "the operations of an upload are bounded like a request body")
		}
		return b, nil
	}
	ops, err := field("operations")
	if err != nil {
		return nil, err
	}
	rawMap, err := field("map")
	if err != nil {
		return nil, err
	}
	params, refusal := parseBody(ops)
	if refusal != "" {
		return nil, badParts(http.StatusBadRequest, "%s", refusal)
	}
	files := map[string][]string{}
	if json.Unmarshal(rawMap, &files) != nil {
		return nil, badParts(http.StatusUnprocessableEntity, "the map part must be a JSON object of file keys to variable paths")
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if isReadError(err) {
				return nil, err
			}
			return nil, badParts(http.StatusUnprocessableEntity, "a part of the multipart request could not be read")
		}
		key := part.FormName()
		paths := files[key]
		if len(paths) == 0 {
			return nil, badParts(http.StatusUnprocessableEntity, "the map names no variable for the file part %q", key)
		}
		delete(files, key)
		data, err := io.ReadAll(part)
		if err != nil {
			return nil, err
		}
		for _, path := range paths {
			up := graphql.Upload{File: bytes.NewReader(data), Size: int64(len(data)), Filename: part.FileName(), ContentType: part.Header.Get("Content-Type")}
			if err := params.AddUpload(up, key, path); err != nil {
				return nil, badParts(http.StatusUnprocessableEntity, "the map's path %q is not a variable of the operation", path)
			}
		}
	}
	for key := range files {
		return nil, badParts(http.StatusUnprocessableEntity, "the map names a file part %q the request does not carry", key)
	}
	return params, nil
}

// isReadError reports whether err came from reading the body (its limit,
// its deadline, the connection) rather than from its multipart syntax.
func isReadError(err error) bool {
	_, tooLarge := errors.AsType[*http.MaxBytesError](err)
	return tooLarge || errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF)
}

// BodyError is how a request body that could not be read (or, for an
// upload, parsed) is answered, on every path that reads one: too large is
// 413, past the body-arrival deadline 408 TIMEOUT, anything else 400.
func BodyError(err error) (int, apperr.Code, string) {
	if pe, ok := errors.AsType[*partError](err); ok {
		return pe.status, apperr.ValidationFailed, pe.msg
	}
	switch _, tooLarge := errors.AsType[*http.MaxBytesError](err); {
	case tooLarge:
		return http.StatusRequestEntityTooLarge, apperr.ValidationFailed, "request body too large"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return http.StatusRequestTimeout, apperr.Timeout, "the request body took too long to arrive"
	default:
		return http.StatusBadRequest, apperr.ValidationFailed, "could not read the request body"
	}
}
