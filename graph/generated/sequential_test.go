package generated

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// marshalSlice must keep what gqlgen's concurrent version promises: every
// element in order, each under its own index, and a panicking element
// turned into an error on its path and a null while the others are kept.
func TestMarshalSliceSequential(t *testing.T) {
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter,
		func(ctx context.Context, p any) error { return fmt.Errorf("recovered: %v", p) })
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Alias: "items"}}})

	var seen []string
	got := marshalSlice(ctx, 4, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		seen = append(seen, graphql.GetPath(ctx).String())
		if i == 2 {
			panic("element 2 broke")
		}
		return graphql.MarshalInt(i * 10)
	})

	var buf bytes.Buffer
	got.MarshalGQL(&buf)
	if want := "[0,10,null,30]"; buf.String() != want {
		t.Fatalf("marshalled %s, want %s", buf.String(), want)
	}
	if want := fmt.Sprint([]string{"items[0]", "items[1]", "items[2]", "items[3]"}); fmt.Sprint(seen) != want {
		t.Fatalf("element paths %v, want %s", seen, want)
	}
	errs := graphql.GetErrors(ctx)
	if len(errs) != 1 || errs[0].Path.String() != "items[2]" || errs[0].Message != "recovered: element 2 broke" {
		t.Fatalf("errors %v, want one at items[2] from the panic", errs)
	}

	// With the panic handler omitted, a panic is not swallowed.
	defer func() {
		if recover() == nil {
			t.Fatal("omitPanicHandler: the panic was swallowed")
		}
	}()
	marshalSlice(ctx, 2, 0, true, func(ctx context.Context, i int) graphql.Marshaler { panic("boom") })
}
