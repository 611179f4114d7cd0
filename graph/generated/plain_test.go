package generated

import (
	"context"
	"errors"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
)

// PlainField takes the direct path only when the field middleware is
// gqlgen's own plus the budget, and only while the budget lasts.
func TestPlainFieldNeedsStockMiddlewareAndBudget(t *testing.T) {
	over := errors.New("over budget")
	operation := func(t *testing.T, e *executor.Executor) *graphql.OperationContext {
		t.Helper()
		oc, errs := e.CreateOperationContext(graphql.StartOperationTrace(context.Background()), &graphql.RawParams{Query: "{__typename}"})
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		return oc
	}

	stock := executor.New(NewExecutableSchema(Config{}))
	oc := operation(t, stock)
	if PlainField(oc) {
		t.Fatal("without a budget a plain field took the direct path (nothing would count it)")
	}
	b := InstallFieldBudget(oc, 3, over)
	for i := range 3 {
		if !PlainField(oc) {
			t.Fatalf("field %d of a budget of 3: not plain", i+1)
		}
	}
	if PlainField(oc) {
		t.Fatal("a fourth field within a budget of 3 took the direct path")
	}
	if b.Over() {
		t.Fatal("refusing the direct path spent the budget")
	}
	// gqlgen's path, which the refused field then takes, spends and refuses.
	if _, err := oc.ResolverMiddleware(context.Background(), func(context.Context) (any, error) { return 1, nil }); !errors.Is(err, over) || !b.Over() {
		t.Fatalf("the middleware past the budget: %v, over %v", err, b.Over())
	}
	b.Reset()
	if !PlainField(oc) {
		t.Fatal("after Reset the budget was not given back")
	}

	// A field interceptor must see every field: no direct path.
	intercepted := executor.New(NewExecutableSchema(Config{}))
	intercepted.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) { return next(ctx) })
	oc = operation(t, intercepted)
	InstallFieldBudget(oc, 100, over)
	if PlainField(oc) {
		t.Fatal("with a field interceptor a plain field took the direct path")
	}

	// Nor may a wrapper installed before the budget be skipped.
	oc = operation(t, stock)
	inner := oc.ResolverMiddleware
	oc.ResolverMiddleware = func(ctx context.Context, next graphql.Resolver) (any, error) { return inner(ctx, next) }
	InstallFieldBudget(oc, 100, over)
	if PlainField(oc) {
		t.Fatal("with another middleware wrapper a plain field took the direct path")
	}

	SetPlainFields(false)
	defer SetPlainFields(true)
	oc = operation(t, stock)
	InstallFieldBudget(oc, 100, over)
	if PlainField(oc) {
		t.Fatal("SetPlainFields(false) did not turn the direct path off")
	}
}
