package main

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"

	"github.com/99designs/gqlgen/codegen"
	"github.com/vektah/gqlparser/v2/ast"
)

// plainFields are the fields (as "Object_field") whose value is a Go struct
// field or an argument-less method that neither takes a context nor
// returns an error, of a scalar or enum type held by value, with no
// directive and no arguments, on an object that is not a root type. gqlgen
// resolves each through ResolveField: a field context, a context value,
// three closures and the value boxed, for reading obj.Name. When the
// operation's field middleware is gqlgen's own plus linli's field budget
// (generated.PlainField says so, and spends the budget), the rewritten
// field marshals obj.Name directly; otherwise it takes gqlgen's path.
//
// Scalars and enums only: their marshallers open no selection, so nothing
// below them needs this field's context (objects would: their fields'
// contexts name their parent).
var plainFields = map[string]bool{}

// collectPlainFields fills plainFields from the generator's data.
func collectPlainFields(data *codegen.Data) {
	for _, o := range data.Objects {
		if o.Root {
			continue
		}
		for _, f := range o.Fields {
			if plainField(f) {
				plainFields[o.Name+"_"+f.Name] = true
			}
		}
	}
}

func plainField(f *codegen.Field) bool {
	t := f.TypeReference
	if f.IsResolver || len(f.Directives) > 0 || len(f.Args) > 0 || f.Stream || f.Batch || f.VOkFunc || f.HasHaser ||
		t == nil || t.Definition == nil || t.IsPtr() || t.IsSlice() || t.IsMap() {
		return false
	}
	if k := t.Definition.Kind; k != ast.Scalar && k != ast.Enum {
		return false
	}
	switch f.GoFieldType {
	case codegen.GoFieldVariable:
		return true
	case codegen.GoFieldMethod:
		return !f.MethodHasContext && f.NoErr
	}
	return false
}

// plainBody is what gqlgen emits for such a field (checked for each, so a
// change in gqlgen's template stops the generator).
var plainBody = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) _(\w+)\(ctx context\.Context, field graphql\.CollectedField, obj \*[\w.\[\]]+\) \(ret graphql\.Marshaler\) \{
	return graphql\.ResolveField\(
		ctx,
		ec\.OperationContext,
		field,
		func\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{
			return ec\.fieldContext_[\pL\pN_]+\(ctx, field\)
		\},
		func\(ctx context\.Context\) \(any, error\) \{
			return (obj\.\w+(?:\(\))?), nil
		\},
		nil,
		func\(ctx context\.Context, selections ast\.SelectionSet, v [\w.\[\]]+\) graphql\.Marshaler \{
			return ec\.(marshal[\pL\pN_]+)\(ctx, selections, v\)
		\},
		true,
		(?:true|false),
	\)
\}`)

// rewritePlain puts the direct path in front of gqlgen's for every plain
// field in src; found records the fields rewritten.
func rewritePlain(src []byte, found map[string]bool) []byte {
	return plainBody.ReplaceAllFunc(src, func(m []byte) []byte {
		sub := plainBody.FindSubmatch(m)
		name := string(sub[1])
		if !plainFields[name] || bytes.Contains(m, []byte("PlainField(")) {
			return m
		}
		found[name] = true
		head, rest, _ := bytes.Cut(m, []byte("\n"))
		return fmt.Appendf(nil, "%s\n\tif PlainField(ec.OperationContext) {\n\t\treturn ec.%s(ctx, field.Selections, %s)\n\t}\n%s",
			head, sub[3], sub[2], rest)
	})
}

// missingPlain lists the plain fields whose generated function did not
// have the expected shape.
func missingPlain(found map[string]bool) []string {
	var missing []string
	for name := range plainFields {
		if !found[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	return missing
}
