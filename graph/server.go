package graph

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"linli/apperr"
	"linli/graph/generated"
	"linli/reqlog"
)

// ServerOptions harden the GraphQL server.
type ServerOptions struct {
	// Production turns introspection and field suggestions off.
	Production bool
	// TokenLimit bounds the tokens the parser reads, before the (quadratic)
	// validator sees the query.
	TokenLimit    int
	MaxDepth      int
	MaxComplexity int
	MaxPage       int
	// Transports are added before the HTTP ones (websocket, SSE).
	Transports []graphql.Transport
}

// Defaults fills zero fields with linli's defaults.
func (o ServerOptions) Defaults() ServerOptions {
	if o.TokenLimit == 0 {
		o.TokenLimit = 2000
	}
	if o.MaxDepth == 0 {
		o.MaxDepth = 12
	}
	if o.MaxComplexity == 0 {
		o.MaxComplexity = 5000
	}
	if o.MaxPage == 0 {
		o.MaxPage = 100
	}
	return o
}

// NewServer returns the gqlgen server for r with explicit transports and
// every limit set.
func NewServer(r *Resolver, o ServerOptions) *handler.Server {
	o = o.Defaults()
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: r}))
	for _, t := range o.Transports {
		srv.AddTransport(t)
	}
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(o.TokenLimit)
	srv.SetDisableSuggestion(o.Production)
	if !o.Production {
		srv.Use(extension.Introspection{})
	}
	srv.Use(Limits{MaxDepth: o.MaxDepth, MaxComplexity: o.MaxComplexity, MaxPage: o.MaxPage})
	srv.SetErrorPresenter(presentError)
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		reqlog.From(ctx).Error("panic in resolver", slog.Any("panic", p))
		return &apperr.Error{Code: apperr.Internal, Message: "internal error", Err: fmt.Errorf("panic: %v", p)}
	})
	return srv
}
