package httpapi

import (
	"net/http"
	"testing"
)

// The response's media type and whether the client prefers an event
// stream, by Accept header: q-values first, then the named type over a
// wildcard, then the order listed. A wildcard never asks for a stream.
func TestAcceptRanking(t *testing.T) {
	const urql = "application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed"
	for _, tc := range []struct {
		accept           string
		media            string
		prefers, accepts bool
	}{
		{"", mediaJSON, false, false},
		{"*/*", mediaJSON, false, false},
		{"application/json", mediaJSON, false, false},
		{"application/json;q=0.1, application/graphql-response+json", mediaGraphQLResponse, false, false},
		{"text/html", "", false, false},
		{urql, mediaGraphQLResponse, false, true},
		{"text/event-stream, multipart/mixed", "", true, true},
		{"text/event-stream", "", true, true},
		{"text/event-stream, application/json", mediaJSON, true, true},
		{"application/json, text/event-stream", mediaJSON, false, true},
		{"application/json;q=0.5, text/event-stream", mediaJSON, true, true},
		{"text/event-stream;q=0.5, application/json", mediaJSON, false, true},
		{"text/event-stream;q=0, application/json", mediaJSON, false, false},
		{"text/*, application/json", mediaJSON, false, false},
		{"text/event-stream, */*", mediaJSON, true, true},
	} {
		r, _ := http.NewRequest(http.MethodGet, "/graphql", nil)
		if tc.accept != "" {
			r.Header.Set("Accept", tc.accept)
		}
		if got := negotiate(tc.accept); got != tc.media {
			t.Errorf("negotiate(%q) = %q, want %q", tc.accept, got, tc.media)
		}
		if got := PrefersEventStream(r); got != tc.prefers {
			t.Errorf("PrefersEventStream(%q) = %v, want %v", tc.accept, got, tc.prefers)
		}
		if got := AcceptsEventStream(r); got != tc.accepts {
			t.Errorf("AcceptsEventStream(%q) = %v, want %v", tc.accept, got, tc.accepts)
		}
	}
}
