package generated

// This file is written by hand; graph/codegen points the generated list
// marshallers at it.

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// marshalSlice marshals a list's elements one after another, each under
// its own field context (the list index), as gqlgen's
// MarshalSliceConcurrently does but without a goroutine per element: linli
// loads a list's edges with the list (entgql field collection), so marshalling
// an element is CPU work that goroutines only make dearer.
//
// A panic in one element becomes an error on that element's path and a null
// in its place, unless omitPanicHandler is set; the other elements are
// still marshalled. workerLimit is ignored: there is one worker.
func marshalSlice(
	ctx context.Context,
	length int,
	workerLimit int64,
	omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler,
) graphql.Array {
	_ = workerLimit
	ret := make(graphql.Array, length)
	for i := range length {
		childCtx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i})
		if omitPanicHandler {
			ret[i] = marshalElement(childCtx, i)
			continue
		}
		ret[i] = marshalRecovering(childCtx, i, marshalElement)
	}
	return ret
}

func marshalRecovering(ctx context.Context, i int, marshalElement func(ctx context.Context, i int) graphql.Marshaler) (m graphql.Marshaler) {
	defer func() {
		if r := recover(); r != nil {
			graphql.AddError(ctx, graphql.Recover(ctx, r))
			m = graphql.Null
		}
	}()
	return marshalElement(ctx, i)
}
