package generated

// This file is written by hand; graph/codegen rewrites plain fields to ask
// PlainField first (graph/codegen/plain.go).

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
)

// FieldBudget counts the fields one response resolves (httpapi.Limits'
// MaxResolvedFields). Root fields of a query resolve concurrently, hence
// the atomic.
type FieldBudget struct {
	spent atomic.Int64
	max   int64
	// plain: the operation's field middleware is gqlgen's own plus this
	// budget, so a plain field may skip it once it has spent the budget.
	plain bool
}

// FieldBudgetKey names the budget among the operation's stats extensions.
const FieldBudgetKey = "LinliFieldBudget"

// InstallFieldBudget gives oc a budget of max resolved fields: every field
// spends one, through oc's field middleware or, for plain fields, through
// PlainField. Call it last among whatever changes oc.ResolverMiddleware.
func InstallFieldBudget(oc *graphql.OperationContext, max int64, over error) *FieldBudget {
	next := oc.ResolverMiddleware
	b := &FieldBudget{max: max, plain: isStock(next)}
	oc.ResolverMiddleware = func(ctx context.Context, r graphql.Resolver) (any, error) {
		if b.spent.Add(1) > b.max {
			return nil, over
		}
		return next(ctx, r)
	}
	oc.Stats.SetExtension(FieldBudgetKey, b)
	return b
}

// Reset gives the budget back in full (each event of a subscription).
func (b *FieldBudget) Reset() { b.spent.Store(0) }

// Over says whether the response resolved more fields than the budget.
func (b *FieldBudget) Over() bool { return b.spent.Load() > b.max }

// PlainField says whether a plain field of this operation may be
// marshalled directly, and if so spends one field of its budget. It says no
// when there is no budget, when any other field middleware runs (a field
// interceptor added to the server, or another mutator wrapping
// ResolverMiddleware before the budget), and once the budget is spent, so
// that gqlgen's path reports the refusal.
func PlainField(oc *graphql.OperationContext) bool {
	if plainOff.Load() {
		return false
	}
	b, _ := oc.Stats.GetExtension(FieldBudgetKey).(*FieldBudget)
	if b == nil || !b.plain {
		return false
	}
	if b.spent.Add(1) > b.max {
		b.spent.Add(-1) // gqlgen's path spends it again and refuses
		return false
	}
	return true
}

// plainOff turns the direct path off (SetPlainFields).
var plainOff atomic.Bool

// SetPlainFields turns the direct path for plain fields on (the default) or
// off, process-wide: for the agreement test and for diagnosis.
func SetPlainFields(on bool) { plainOff.Store(!on) }

var (
	stockOnce sync.Once
	stockPtr  uintptr
)

// isStock says whether m is gqlgen's own field middleware (what an executor
// with no field interceptors installs), compared by code pointer: an
// interceptor or a wrapper is a different function.
func isStock(m graphql.FieldMiddleware) bool {
	stockOnce.Do(func() {
		e := executor.New(NewExecutableSchema(Config{}))
		oc, errs := e.CreateOperationContext(graphql.StartOperationTrace(context.Background()), &graphql.RawParams{Query: "{__typename}"})
		if len(errs) == 0 && oc.ResolverMiddleware != nil {
			stockPtr = reflect.ValueOf(oc.ResolverMiddleware).Pointer()
		}
	})
	return m != nil && stockPtr != 0 && reflect.ValueOf(m).Pointer() == stockPtr
}
