package httpapi

import (
	"bytes"
	"io"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	"linli/apperr"
)

// BodyLimits are the bounds on every request's URL and body (the settings
// -max-body-bytes, -max-upload-bytes and -body-timeout).
type BodyLimits struct {
	MaxBodyBytes, MaxUploadBytes int64
	BodyTimeout                  time.Duration
}

// maxQueryString bounds GET URLs: a GET query has the same token limit as a
// POST body, and larger ones belong in a POST.
const maxQueryString = 32 << 10

// Wrap bounds the URL, and the size and arrival time of the body, of
// every request but websocket upgrades (whose frames the websocket transport
// bounds): POST, GET and SSE alike. A JSON body is read here, whole, so a body
// too large gets 413 even when its length was not announced, and one that
// trickles in is cut off at the read deadline. The time a query or mutation
// may then run is bounded by the GraphQL server, for every transport.
func (l BodyLimits) Wrap(next http.Handler) http.Handler {
	maxBody := l.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = 256 << 10
	}
	bodyTimeout := l.BodyTimeout
	if bodyTimeout <= 0 {
		bodyTimeout = 10 * time.Second
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if websocket.IsWebSocketUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		if len(r.URL.RawQuery) > maxQueryString {
			writeError(w, http.StatusRequestURITooLong, apperr.ValidationFailed, "query string too long; send large queries with POST")
			return
		}
		maxBody := maxBody
		upload := IsUpload(r)
		if upload {
			// A file upload has its own, larger bound, and is not read
			// here: the upload transport (upload.go) decides who may send one
			// before it reads the body, as a stream, and keeps its
			// operations within the body limit.
			maxBody = max(l.MaxUploadBytes, maxBody)
		}
		if r.ContentLength > maxBody {
			writeError(w, http.StatusRequestEntityTooLarge, apperr.ValidationFailed, "request body too large")
			return
		}
		if r.Method == http.MethodPost {
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(time.Now().Add(bodyTimeout))
			if upload {
				r.Body = http.MaxBytesReader(w, r.Body, maxBody)
				next.ServeHTTP(w, r)
				return
			}
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
			if err != nil {
				status, code, msg := BodyError(err)
				writeError(w, status, code, msg)
				return
			}
			// The body is in: the deadline bounded its arrival only. An
			// SSE stream lives on, and a query is bounded by the GraphQL
			// server's timeout.
			_ = rc.SetReadDeadline(time.Time{})
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r)
	})
}
