//go:build ignore

// entc.go generates the Ent client and, through entgql, schema/ent.graphql.
// Run it through `go generate ./...` from the module root (see generate.go).
package main

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"sort"
	"strings"

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
	if err := selectDerived("ent/gql_collection.go"); err != nil {
		log.Fatalf("derived fields: %v", err)
	}
}

// derivedFields are the fields linli's GraphQL schema adds to an Ent type
// (`extend type` in schema/*.graphql) that a plain method computes from
// columns, with those columns. entgql's field collection selects only the
// requested columns, unless a requested field is unknown to it: then it
// loads every column. Told what a derived field reads, it keeps selecting
// just what the page needs (a page of 50 activities loads 5 of the slots'
// 17 columns instead of all: fewer values to decode and allocate).
// A derived field missing here still works: it costs the whole row.
var derivedFields = map[string]map[string][]string{
	// ent/slot_available.go: capacity minus taken.
	"Slot": {"available": {"FieldCapacity", "FieldTaken"}},
}

// selectDerived adds a case for each derived field to its type's
// collectField in the generated file.
func selectDerived(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for typ, fields := range derivedFields {
		fn := fmt.Sprintf("func (_q *%sQuery) collectField(", typ)
		start := bytes.Index(src, []byte(fn))
		if start < 0 {
			return fmt.Errorf("%s: no %s", path, fn)
		}
		end := start + bytes.Index(src[start:], []byte("\n}\n"))
		body := src[start:end]
		anchor := []byte("\t\tcase \"__typename\":\n")
		at := bytes.Index(body, anchor)
		if at < 0 {
			return fmt.Errorf("%s: %s has no __typename case: entgql's template changed, revisit ent/entc.go", path, fn)
		}
		var add strings.Builder
		pkg := strings.ToLower(typ)
		names := make([]string, 0, len(fields))
		for name := range fields {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			cols := fields[name]
			if bytes.Contains(body, []byte(fmt.Sprintf("case %q", name))) {
				return fmt.Errorf("%s: %s already collects %q: remove it from derivedFields", path, fn, name)
			}
			qualified := make([]string, len(cols))
			for i, c := range cols {
				qualified[i] = pkg + "." + c
			}
			fmt.Fprintf(&add, "\t\tcase %q: // derived (ent/entc.go derivedFields)\n", name)
			fmt.Fprintf(&add, "\t\t\tfor _, c := range []string{%s} {\n", strings.Join(qualified, ", "))
			add.WriteString("\t\t\t\tif _, ok := fieldSeen[c]; !ok {\n\t\t\t\t\tselectedFields = append(selectedFields, c)\n\t\t\t\t\tfieldSeen[c] = struct{}{}\n\t\t\t\t}\n\t\t\t}\n")
		}
		pos := start + at
		src = append(src[:pos:pos], append([]byte(add.String()), src[pos:]...)...)
	}
	return os.WriteFile(path, src, 0o644)
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
