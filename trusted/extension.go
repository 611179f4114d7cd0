package trusted

import (
	"context"
	"errors"
	"regexp"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"linli/apperr"
)

// Extension runs only trusted documents. It sits in gqlgen's operation
// path, before parsing, validation and linli's limits, where every
// transport's request passes (POST, GET, SSE, both websocket protocols), so
// no transport can skip it. A request is admitted when it either
//
//   - sends extensions.persistedQuery {"version": 1, "sha256Hash": h} and
//     no query, with h on the list: the listed document is run (Apollo's
//     persisted queries and persisted documents, Relay's persisted queries
//     with a sha256 id); an unlisted h is PERSISTED_QUERY_NOT_FOUND, which
//     makes Apollo's link retry with the full text, refused as below; or
//   - sends a query whose sha256 is on the list (with, optionally, the
//     matching persistedQuery hash).
//
// Anything else is OPERATION_NOT_TRUSTED, and a hash that is not the
// query's own is VALIDATION_FAILED.
//
// Register it before any other OperationParameterMutator: the limits'
// pre-validation and, later, automatic persisted queries must see the
// document it settled on. (Automatic persisted queries, issue 14, are a
// second Documents behind the same lookup; with trusted documents on, they
// may only serve documents this list admits.)
type Extension struct {
	Documents Documents
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = Extension{}

func (Extension) ExtensionName() string { return "LinliTrustedDocuments" }

func (e Extension) Validate(graphql.ExecutableSchema) error {
	if e.Documents == nil {
		return errors.New("trusted documents: no Documents")
	}
	return nil
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// MutateOperationParameters implements graphql.OperationParameterMutator.
func (e Extension) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	hash, sent, err := persistedHash(raw.Extensions)
	if err != nil {
		return coded(apperr.ValidationFailed, err.Error())
	}
	if raw.Query == "" {
		if !sent {
			return coded(apperr.OperationNotTrusted, "this server runs only its trusted documents; send extensions.persistedQuery.sha256Hash")
		}
		doc, ok := e.Documents.Document(ctx, hash)
		if !ok {
			// Apollo's PersistedQueryLink matches this message as well as the code.
			return coded(apperr.PersistedQueryNotFound, "PersistedQueryNotFound")
		}
		raw.Query = doc
		return nil
	}
	own := Hash(raw.Query)
	if sent && hash != own {
		return coded(apperr.ValidationFailed, "extensions.persistedQuery.sha256Hash is not the sha256 of the query")
	}
	if _, ok := e.Documents.Document(ctx, own); !ok {
		return coded(apperr.OperationNotTrusted, "this server runs only its trusted documents, and the query is not one of them")
	}
	return nil
}

// persistedHash reads extensions.persistedQuery: whether it was sent, and
// its hash.
func persistedHash(ext map[string]any) (hash string, sent bool, err error) {
	v, sent := ext["persistedQuery"]
	if !sent || v == nil {
		return "", false, nil
	}
	bad := errors.New(`extensions.persistedQuery must be {"version": 1, "sha256Hash": "<64 lowercase hex digits>"}`)
	pq, ok := v.(map[string]any)
	if !ok {
		return "", true, bad
	}
	hash, _ = pq["sha256Hash"].(string)
	if !sha256Hex.MatchString(hash) || !versionOne(pq["version"]) {
		return "", true, bad
	}
	return hash, true, nil
}

// versionOne accepts the version as the transports decode it: json.Number
// (POST, GET), float64 (websocket, SSE) or a missing version.
func versionOne(v any) bool {
	switch n := v.(type) {
	case nil:
		return true
	case float64:
		return n == 1
	case interface{ String() string }:
		return n.String() == "1"
	}
	return false
}

func coded(code apperr.Code, msg string) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    msg,
		Extensions: map[string]any{"code": string(code)},
		Err:        &apperr.Error{Code: code, Message: msg},
	}
}
