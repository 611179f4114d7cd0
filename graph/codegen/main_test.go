package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gqlgen's templates must still emit what rewrites match, so upgrading
// gqlgen (go.mod) without regenerating fails here rather than at the next
// `go generate .`, where a mismatch also stops the generator. The
// generated executor in graph/generated must carry every rewrite.
func TestRewritesMatchGqlgen(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/99designs/gqlgen").Output()
	if err != nil {
		t.Fatalf("locate gqlgen: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	var templates []byte
	for _, name := range []string{"object.gotpl", "type.gotpl"} {
		b, err := os.ReadFile(filepath.Join(dir, "codegen", name))
		if err != nil {
			t.Fatalf("gqlgen's codegen/%s: %v (its templates moved: revisit graph/codegen)", name, err)
		}
		templates = append(templates, b...)
	}
	for _, r := range rewrites {
		if !bytes.Contains(templates, []byte(r.from)) {
			t.Errorf("gqlgen's templates no longer emit %q: revisit graph/codegen", r.from)
		}
	}
	// The field goroutines sequentialFields turns off are gqlgen's
	// ResolveConcurrently on non-root objects, behind IsConcurrent.
	b, err := os.ReadFile(filepath.Join(dir, "codegen", "field.go"))
	if err != nil || !bytes.Contains(b, []byte("if f.Object.DisableConcurrency {")) {
		t.Errorf("gqlgen's Field.IsConcurrent no longer looks at Object.DisableConcurrency (%v): revisit graph/codegen", err)
	}

	files, _ := filepath.Glob("../generated/*.generated.go")
	if len(files) == 0 {
		t.Fatal("no generated executor files")
	}
	var gen []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		gen = append(gen, b...)
	}
	for _, r := range rewrites {
		if bytes.Contains(gen, []byte(r.from)) || !bytes.Contains(gen, []byte(r.to)) {
			t.Errorf("graph/generated is not rewritten (%q still there or %q missing): run go generate .", r.from, r.to)
		}
	}
	for _, s := range []string{"out.ResolveConcurrently(", "&deferred"} {
		if bytes.Contains(gen, []byte(s)) {
			t.Errorf("graph/generated still has %q: a non-root field resolves on a goroutine of its own", s)
		}
	}
	// The plain-field rewrite: gqlgen's resolveField for a field must still
	// look the way plainBody expects, and the committed executor carries the
	// direct path (Slot.name is one such field).
	if !bytes.Contains(gen, []byte("if PlainField(ec.OperationContext) {\n\t\treturn ec.marshalNString2string(ctx, field.Selections, obj.Name)")) {
		t.Error("graph/generated lacks the plain-field direct path: run go generate .")
	}
}
