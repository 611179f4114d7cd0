package trusted

import (
	"context"
	"errors"
	"regexp"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"linli/apperr"
	"linli/reqlog"
	"linli/viewer"
)

// Extension settles which document a request runs when it names one by
// hash (extensions.persistedQuery {"version": 1, "sha256Hash": h}), from
// one of two sources:
//
//   - Trusted, the deployment's allow-list (trusted documents): when set,
//     it is the only source and the only documents that run. A hash on the
//     list runs its document, an unlisted hash is PERSISTED_QUERY_NOT_FOUND,
//     and a query sent in full runs only when its sha256 is listed, else
//     OPERATION_NOT_TRUSTED: nothing can be registered.
//   - Persisted, otherwise: automatic persisted queries (Apollo's
//     PersistedQueryLink). An unknown hash is PERSISTED_QUERY_NOT_FOUND, the
//     client then sends the document with its hash, and once that request
//     has parsed, validated and passed every limit (when the operation is
//     dispatched) the document is registered, so the hash alone works from
//     then on, on every replica sharing the store. With Persisted nil too,
//     a hash alone is PERSISTED_QUERY_NOT_SUPPORTED (the link then stops
//     sending hashes).
//
// In both modes a hash that is not the sha256 of the query sent with it is
// VALIDATION_FAILED, as is a malformed persistedQuery.
//
// It sits in gqlgen's operation path, before parsing, validation and
// linli's limits, where every transport's request passes (POST, GET, SSE,
// both websocket protocols), so no transport can skip it. Register it
// before any other OperationParameterMutator: the limits' pre-validation
// must see the document it settled on.
type Extension struct {
	Trusted   Documents
	Persisted Registry
}

// Registry is a store of documents clients register by hash.
type Registry interface {
	Documents
	// Register stores document under hash, its sha256. It is called only
	// for documents that parsed, validated and passed the limits; a store
	// may decline to keep one (too large) and must stay bounded. An error
	// is logged and the request goes on: the client sends the document
	// again when the hash is not found.
	Register(ctx context.Context, hash, document string) error
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationInterceptor
} = Extension{}

func (Extension) ExtensionName() string { return "LinliDocuments" }

func (Extension) Validate(graphql.ExecutableSchema) error { return nil }

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// registration is a document to register once its operation is dispatched,
// kept in the operation's stats between the two steps.
type registration struct{ hash, document string }

const registrationKey = "LinliDocumentsRegistration"

// MutateOperationParameters implements graphql.OperationParameterMutator.
func (e Extension) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	hash, sent, err := persistedHash(raw.Extensions)
	if err != nil {
		return coded(apperr.ValidationFailed, err.Error())
	}
	if e.Trusted != nil {
		return e.trusted(ctx, raw, hash, sent)
	}
	if !sent {
		return nil
	}
	if raw.Query == "" {
		if e.Persisted == nil {
			// Apollo's PersistedQueryLink matches this message as well as the code.
			return coded(apperr.PersistedQueryNotSupported, "PersistedQueryNotSupported")
		}
		doc, ok := e.Persisted.Document(ctx, hash)
		if !ok {
			return coded(apperr.PersistedQueryNotFound, "PersistedQueryNotFound")
		}
		raw.Query = doc
		return nil
	}
	if Hash(raw.Query) != hash {
		return hashMismatch()
	}
	if e.Persisted != nil && graphql.HasOperationContext(ctx) {
		graphql.GetOperationContext(ctx).Stats.SetExtension(registrationKey, registration{hash, raw.Query})
	}
	return nil
}

// InterceptOperation implements graphql.OperationInterceptor: an operation
// is dispatched only after parsing, validation, variable coercion and every
// limit passed, and its document is registered only once it has answered
// without errors: what a caller may not run (FORBIDDEN, NOT_FOUND, …) is
// never written to the shared store on their behalf.
func (e Extension) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if e.Persisted == nil || !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	r, ok := graphql.GetOperationContext(ctx).Stats.GetExtension(registrationKey).(registration)
	if !ok || !mayRegister(viewer.FromContext(ctx)) {
		return next(ctx)
	}
	responses := next(ctx)
	var once sync.Once
	return func(ctx context.Context) *graphql.Response {
		resp := responses(ctx)
		if resp != nil && len(resp.Errors) == 0 {
			// A subscription answers many times; its document is stored once.
			once.Do(func() {
				if err := e.Persisted.Register(ctx, r.hash, r.document); err != nil {
					reqlog.From(ctx).Warn("register persisted query", "hash", r.hash, "error", err.Error())
				}
			})
		}
		return resp
	}
}

// trusted admits only documents on the allow-list.
func (e Extension) trusted(ctx context.Context, raw *graphql.RawParams, hash string, sent bool) *gqlerror.Error {
	if raw.Query == "" {
		if !sent {
			return coded(apperr.OperationNotTrusted, "this server runs only its trusted documents; send extensions.persistedQuery.sha256Hash")
		}
		doc, ok := e.Trusted.Document(ctx, hash)
		if !ok {
			return coded(apperr.PersistedQueryNotFound, "PersistedQueryNotFound")
		}
		raw.Query = doc
		return nil
	}
	own := Hash(raw.Query)
	if sent && hash != own {
		return hashMismatch()
	}
	if _, ok := e.Trusted.Document(ctx, own); !ok {
		return coded(apperr.OperationNotTrusted, "this server runs only its trusted documents, and the query is not one of them")
	}
	return nil
}

func hashMismatch() *gqlerror.Error {
	return coded(apperr.ValidationFailed, "extensions.persistedQuery.sha256Hash is not the sha256 of the query")
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

// mayRegister says whether documents v runs are kept: those of signed-in
// people and kiosks. An anonymous client's documents run but are not kept,
// so one anonymous client cannot flood the shared store and evict what the
// deployment's clients use (its hashes keep answering
// PERSISTED_QUERY_NOT_FOUND, on which Apollo's link sends the document).
func mayRegister(v *viewer.Viewer) bool {
	return v != nil && (v.PersonID != 0 || v.IsKiosk())
}
