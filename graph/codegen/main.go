// Command codegen runs gqlgen's generator over gqlgen.yml with three
// changes to the executor it writes:
//
//   - the fields of every object that is not a root type resolve one after
//     another in their object's goroutine (gqlgen gives each field whose
//     resolver or method takes a context a goroutine of its own);
//   - list elements are marshalled one after another (gqlgen starts a
//     goroutine per element): the generated executor calls marshalSlice in
//     graph/generated/sequential.go instead of
//     graphql.MarshalSliceConcurrently;
//   - objects no longer build a @defer group (a response path and a map)
//     that, with the first change, can never be used (see rewrites).
//
// For linli the context-taking fields are the Ent edges (Activity.slots,
// .team, .venue, …), and entgql's field collection eager-loads them with
// the list, so by the time an object is marshalled there is no I/O left to
// overlap: the goroutines bought only their cost. A page of 50 activities
// with their slots started some 300 of them, each growing its stack, which
// was a third of the CPU the request took. Root fields (Query, Mutation,
// Subscription) keep gqlgen's choice.
//
// Run through `go generate .` at the repository root.
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"path/filepath"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
)

func main() {
	cfg, err := config.LoadConfigFromDefaultLocations()
	if err != nil {
		fmt.Fprintln(os.Stderr, "codegen: load gqlgen.yml:", err)
		os.Exit(2)
	}
	if err := api.Generate(cfg, api.AddPlugin(sequentialFields{})); err != nil {
		fmt.Fprintln(os.Stderr, "codegen:", err)
		os.Exit(3)
	}
	if err := rewriteExecutor(cfg.Exec.Dir()); err != nil {
		fmt.Fprintln(os.Stderr, "codegen:", err)
		os.Exit(4)
	}
}

// rewrites are the textual changes made to the generated executor files.
// Each must match at least once across the files, so a gqlgen upgrade that
// changes what it emits is noticed instead of silently undoing the change.
var rewrites = []struct{ from, to string }{
	// gqlgen's templates emit this for every list of objects; marshalSlice
	// (graph/generated/sequential.go) is its sequential twin with the same
	// signature.
	{"graphql.MarshalSliceConcurrently(", "marshalSlice("},
	// Every object starts a deferred group for its @defer fields, computing
	// its full response path and a map up front. Only fields resolved with
	// ResolveConcurrently can be deferred, and sequentialFields leaves none
	// outside the root types, whose fields are not deferred this way, so the
	// group always stays empty: an empty literal does the same for nothing.
	// (@defer is then answered inline, which the incremental-delivery
	// proposal allows.) rewriteExecutor refuses a file that still hands the
	// group to anything.
	{"graphql.NewDeferredGroup(ctx)", "graphql.DeferredGroup{}"},
}

// rewriteExecutor applies rewrites to the generated executor files in dir.
func rewriteExecutor(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.generated.go"))
	if err != nil {
		return err
	}
	matched := make([]int, len(rewrites))
	plain := map[string]bool{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if bytes.Contains(src, []byte("&deferred")) {
			return fmt.Errorf("%s hands its deferred group to a resolver; the empty-group rewrite no longer holds, revisit graph/codegen", f)
		}
		out := src
		for i, r := range rewrites {
			matched[i] += bytes.Count(out, []byte(r.from))
			out = bytes.ReplaceAll(out, []byte(r.from), []byte(r.to))
		}
		out = rewritePlain(out, plain)
		if bytes.Equal(out, src) {
			continue
		}
		if out, err = format.Source(out); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if err := os.WriteFile(f, out, 0o644); err != nil {
			return err
		}
	}
	if missing := missingPlain(plain); len(missing) > 0 {
		return fmt.Errorf("plain fields not in the shape gqlgen used to emit (%v): revisit graph/codegen/plain.go", missing)
	}
	for i, n := range matched {
		if n == 0 {
			return fmt.Errorf("no %q found in %s: gqlgen's output changed; revisit graph/codegen", rewrites[i].from, dir)
		}
	}
	return nil
}

// sequentialFields marks non-root objects as not concurrent. gqlgen calls
// GenerateCode on plugins with the built data before it renders the
// executor, so the flag reaches the templates.
type sequentialFields struct{}

func (sequentialFields) Name() string { return "linli-sequential-fields" }

func (sequentialFields) GenerateCode(data *codegen.Data) error {
	for _, o := range data.Objects {
		if !o.Root {
			o.DisableConcurrency = true
		}
	}
	collectPlainFields(data)
	return nil
}
