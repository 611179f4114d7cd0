package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"linli/apperr"
	"linli/authz"
	"linli/gid"
	"linli/graph"
	"linli/graph/generated"
	"linli/ledger"
	"linli/reqlog"
	"linli/trusted"
	"linli/viewer"
)

// ServerOptions harden the GraphQL server.
type ServerOptions struct {
	// Production turns introspection and field suggestions off.
	Production bool
	// TokenLimit bounds the tokens the parser reads, before the (quadratic)
	// validator sees the query.
	TokenLimit int
	// MaxSelections bounds the fields, spreads and inline fragments written
	// in a query (before expansion), which the validator's cost grows with.
	MaxSelections int
	MaxDepth      int
	// MaxComplexity bounds a query's cost: every field counts one, times
	// the page size of each connection and the bound of each list it sits
	// in (ListBound, or ListBounds[Type.field]).
	MaxComplexity int
	ListBound     int
	ListBounds    map[string]int
	// MaxResolvedFields bounds the fields a response resolves, list
	// elements counted: the backstop for lists longer than their bound.
	MaxResolvedFields int
	// MaxPage is the largest first/last a connection accepts.
	MaxPage int
	// MaxStringBytes bounds every string in an argument.
	MaxStringBytes int
	// Timeout bounds every query and mutation, on every transport
	// (subscriptions live on); past it the request answers TIMEOUT.
	// 0: no timeout.
	Timeout time.Duration
	// MaxInputDepth, MaxListLength and MaxInputValues bound argument values
	// (see Limits).
	MaxInputDepth  int
	MaxListLength  int
	MaxInputValues int
	// Transports are added before the HTTP ones (websocket, SSE).
	Transports []graphql.Transport

	// IDs encodes and decodes every ID the API shows or takes (the ID
	// scalar, node(id:), subscription payloads): it is put in the context
	// of every operation, on every transport. Required.
	IDs *gid.Codec

	// TrustedDocuments, when set, is the only documents the server runs
	// (trusted.Extension); nil runs any query.
	TrustedDocuments trusted.Documents
	// PersistedQueries is the store of automatic persisted queries, used
	// when TrustedDocuments is nil; nil answers a hash alone with
	// PERSISTED_QUERY_NOT_SUPPORTED.
	PersistedQueries trusted.Registry
	// MaxUploadBytes bounds a multipart upload request (the GraphQL
	// multipart request spec), 8 MiB by default; its operations are bounded
	// by MaxOperationBytes (the JSON body limit, 256 KiB by default).
	MaxUploadBytes, MaxOperationBytes int64
	// MaxUploadsPerAddress bounds the upload bodies one client address
	// (reqlog.ClientAddr) has in flight at once (4); -1: no bound.
	MaxUploadsPerAddress int

	// GetMaxAge, when positive, lets caches keep successful GET answers
	// that long (getTransport says how); 0 marks them no-store.
	GetMaxAge time.Duration
}

// Defaults fills zero fields with linli's defaults.
func (o ServerOptions) Defaults() ServerOptions {
	for _, d := range []struct {
		field *int
		value int
	}{
		{&o.TokenLimit, 2000}, {&o.MaxDepth, 12}, {&o.MaxComplexity, 5000}, {&o.MaxPage, 100},
		{&o.MaxSelections, 500}, {&o.MaxInputDepth, 12}, {&o.MaxListLength, 100}, {&o.MaxInputValues, 1000},
		{&o.ListBound, 50}, {&o.MaxResolvedFields, 50000}, {&o.MaxStringBytes, 10 << 10},
	} {
		if *d.field == 0 {
			*d.field = d.value
		}
	}
	if o.MaxUploadBytes <= 0 {
		o.MaxUploadBytes = 8 << 20
	}
	if o.MaxUploadsPerAddress == 0 {
		o.MaxUploadsPerAddress = 4
	}
	if o.MaxOperationBytes <= 0 {
		o.MaxOperationBytes = 256 << 10
	}
	if o.ListBounds == nil {
		o.ListBounds = map[string]int{
			// Activities have a few slots (at most 50, organize refuses
			// more: MaxResolvedFields catches the rare long one).
			"Activity.slots": 10, "ActivityCounts.slots": 10,
			"Person.teams": 5,
			"Query.teams":  20, "Query.venues": 20, "Query.kiosks": 20,
			// A name search at the door answers at most scan.MaxMatches.
			"Query.checkInSearch": 20,
			// nodes(ids:) answers one element per id.
			"Query.nodes": o.MaxListLength,
			// Statistics breakdowns: five modules, eight service types, a
			// community's teams, the months of the range.
			"CommunityStatistics.byCategory": 5, "StatisticsTotal.byCategory": 5,
			"CommunityStatistics.byServiceType": 8, "StatisticsTotal.byServiceType": 8,
			"CommunityStatistics.byTeam": 10, "CommunityStatistics.byMonth": 12, "StatisticsTotal.byMonth": 12,
		}
	}
	return o
}

// NewServer returns the gqlgen server for r with explicit transports and
// every limit set.
func NewServer(r *graph.Resolver, o ServerOptions) *handler.Server {
	o = o.Defaults()
	if o.IDs == nil {
		panic("httpapi: ServerOptions.IDs is required")
	}
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: r}))
	// First, so that every later extension and interceptor (the live fast
	// path) and every resolver and marshaller sees the codec.
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(gid.NewContext(ctx, o.IDs))
	})
	// A board token reads the board's data and nothing else: checked once
	// per operation, on its root fields (subscriptions included).
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		v := viewer.FromContext(ctx)
		if v == nil || !v.BoardOnly {
			return next(ctx)
		}
		oc := graphql.GetOperationContext(ctx)
		object := map[ast.Operation]string{ast.Query: "Query", ast.Mutation: "Mutation", ast.Subscription: "Subscription"}[oc.Operation.Operation]
		for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, nil) {
			if !authz.BoardMayUse(v, object, f.Name) {
				err := presentError(ctx, apperr.New(apperr.Forbidden, "a board's token only reads the board"))
				return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{err}})
			}
		}
		return next(ctx)
	})
	for _, t := range o.Transports {
		srv.AddTransport(t)
	}
	srv.AddTransport(transport.Options{})
	srv.AddTransport(getTransport{maxAge: o.GetMaxAge})
	srv.AddTransport(postTransport{})
	// At most 10,000 addresses with uploads in flight are tracked (a few
	// hundred KB); beyond that new addresses wait their turn.
	srv.AddTransport(uploadTransport{maxUpload: o.MaxUploadBytes, maxOperations: o.MaxOperationBytes,
		inFlight: newPerAddress(o.MaxUploadsPerAddress, 10000)})
	srv.AddTransport(unsupported{})
	cache := lru.New[*ast.QueryDocument](1000)
	srv.SetQueryCache(cache)
	// First: every later step sees the document it settled on.
	srv.Use(trusted.Extension{Trusted: o.TrustedDocuments, Persisted: o.PersistedQueries})
	srv.Use(preValidate{tokens: o.TokenLimit, selections: o.MaxSelections, inputDepth: o.MaxInputDepth, cache: cache})
	// A backstop for whatever bypasses preValidate; +1 for the EOF token
	// the parser counts.
	srv.SetParserTokenLimit(o.TokenLimit + 1)
	srv.SetDisableSuggestion(o.Production)
	if o.Production {
		srv.SetValidationRulesFn(rulesWithoutSuggestions)
	} else {
		srv.Use(extension.Introspection{})
	}
	srv.Use(Limits{
		MaxDepth: o.MaxDepth, MaxComplexity: o.MaxComplexity, MaxPage: o.MaxPage,
		ListBound: o.ListBound, ListBounds: o.ListBounds, MaxResolvedFields: o.MaxResolvedFields,
		MaxInputDepth: o.MaxInputDepth, MaxListLength: o.MaxListLength, MaxInputValues: o.MaxInputValues,
		MaxStringBytes: o.MaxStringBytes,
	})
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		ctx, cancel := withOperationTimeout(ctx, o.Timeout)
		defer cancel()
		resp := next(ledger.WithResponseCache(ctx))
		logFailures(ctx, resp)
		return resp
	})
	srv.SetErrorPresenter(presentError)
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		reqlog.From(ctx).Error("panic in resolver", slog.Any("panic", p))
		return &apperr.Error{Code: apperr.Internal, Message: "internal error", Err: fmt.Errorf("panic: %v", p)}
	})
	return srv
}

// withOperationTimeout bounds a query or mutation: here, around the
// executor, so every transport (POST, GET, SSE, websocket) gets the same
// deadline. A subscription's events are not bounded: the stream lives on.
func withOperationTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 || !graphql.HasOperationContext(ctx) {
		return ctx, func() {}
	}
	if op := graphql.GetOperationContext(ctx).Operation; op == nil || op.Operation == ast.Subscription {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// rulesWithoutSuggestions are gqlparser's default rules with every rule that
// can answer "Did you mean …" swapped for its silent twin: gqlgen's
// SetDisableSuggestion swaps only two of them, and the others would still
// spell out argument, input field, enum and type names in production.
func rulesWithoutSuggestions() *rules.Rules {
	r := rules.NewDefaultRules()
	for _, swap := range []struct {
		name   string
		silent core.Rule
	}{
		{"FieldsOnCorrectType", rules.FieldsOnCorrectTypeRuleWithoutSuggestions},
		{"KnownArgumentNames", rules.KnownArgumentNamesRuleWithoutSuggestions},
		{"KnownTypeNames", rules.KnownTypeNamesRuleWithoutSuggestions},
		{"ScalarLeafs", rules.ScalarLeafsRuleWithoutSuggestions},
		{"ValuesOfCorrectType", rules.ValuesOfCorrectTypeRuleWithoutSuggestions},
	} {
		r.RemoveRule(swap.name)
		r.AddRule(swap.silent.Name, swap.silent.RuleFunc)
	}
	return r
}
