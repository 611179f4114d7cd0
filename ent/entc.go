//go:build ignore

// entc.go generates the Ent client and, through entgql, schema/ent.graphql.
// Run it through `go generate ./...` from the module root (see generate.go).
package main

import (
	"fmt"
	"log"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"github.com/vektah/gqlparser/v2/ast"
)

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("schema/ent.graphql"),
		entgql.WithConfigPath("gqlgen.yml"),
		entgql.WithWhereInputs(true),
		entgql.WithNodeDescriptor(false),
		entgql.WithSchemaHook(nonNullLists),
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Target:  "./ent",
		Package: "linli/ent",
		Features: []gen.Feature{
			gen.FeaturePrivacy,
			gen.FeatureEntQL,
			gen.FeatureIntercept,
			gen.FeatureUpsert,
			gen.FeatureExecQuery,
			gen.FeatureModifier,
			gen.FeatureGlobalID,
			gen.FeatureVersionedMigration,
		},
	}, entc.Extensions(ex))
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}

// nonNullLists are the list edges API.md promises as [T!]!: entgql makes a
// to-many edge a nullable list unless the edge is required at creation,
// which an activity's slots are not (they are added after it). The
// resolver answers an empty list, never null.
var nonNullListFields = map[string][]string{"Activity": {"slots"}}

func nonNullLists(_ *gen.Graph, s *ast.Schema) error {
	for typ, fields := range nonNullListFields {
		def := s.Types[typ]
		if def == nil {
			return fmt.Errorf("non-null lists: no type %s", typ)
		}
		for _, name := range fields {
			f := def.Fields.ForName(name)
			if f == nil || f.Type.Elem == nil {
				return fmt.Errorf("non-null lists: %s.%s is not a list", typ, name)
			}
			f.Type.NonNull = true
		}
	}
	return nil
}
