package app_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// What a benchmark may use of package app: the function server runs, and
// the types it returns. Everything else (New, NewWithDB, DefaultConfig,
// Config, LiveConfig, …) builds linli some other way.
var benchMayUseOfApp = []string{"Start", "App", "Settings"}

// Packages whose constructors build a service, which a benchmark must get
// from the app instead (a second instance is wired unlike the server's).
var servicePackages = []string{"linli/ledger", "linli/kiosk", "linli/scan", "linli/hours", "linli/certificate", "linli/requests", "linli/households", "linli/pairing", "linli/organize", "linli/auth",
	"linli/live", "linli/graph", "linli/persisted", "linli/store", "linli/wsgorilla", "linli/jobs", "linli/notify"}

// linlitest's functions that build an app with the tests' configuration.
var linlitestBuilders = []string{"New", "NewAt", "Run"}

// appFields are the exported fields of app.App, read from app.go: a
// benchmark that assigns through one of them (a.Resolver.Ledger.X = …)
// changes the built app after the fact.
func appFields(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "app.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != "App" {
			return true
		}
		for _, fld := range ts.Type.(*ast.StructType).Fields.List {
			for _, name := range fld.Names {
				if name.IsExported() {
					names = append(names, name.Name)
				}
			}
		}
		return false
	})
	if len(names) == 0 {
		t.Fatal("no exported fields of App found in app.go")
	}
	return names
}

// benchViolations lists every way the file src builds or changes linli
// other than through app.Start.
func benchViolations(fset *token.FileSet, name string, src any, fields []string) ([]string, error) {
	f, err := parser.ParseFile(fset, name, src, 0)
	if err != nil {
		return nil, err
	}
	imports := map[string]string{} // local name → path
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		local := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			local = imp.Name.Name
		}
		imports[local] = path
	}
	var out []string
	report := func(n ast.Node, format string, a ...any) {
		out = append(out, fmt.Sprintf("%s: %s", fset.Position(n.Pos()), fmt.Sprintf(format, a...)))
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			pkg, ok := n.X.(*ast.Ident)
			if !ok {
				return true
			}
			switch path := imports[pkg.Name]; {
			case path == "linli/app" && !slices.Contains(benchMayUseOfApp, n.Sel.Name):
				report(n, "app.%s: build linli with app.Start (or load.Start) from operator flags", n.Sel.Name)
			case slices.ContainsFunc(servicePackages, func(p string) bool { return path == p || strings.HasPrefix(path, p+"/") }) &&
				strings.HasPrefix(n.Sel.Name, "New"):
				report(n, "%s.%s: a service built beside the app's; use the built app's", pkg.Name, n.Sel.Name)
			case path == "linli/linlitest" && slices.Contains(linlitestBuilders, n.Sel.Name):
				report(n, "linlitest.%s builds linli with the tests' configuration", n.Sel.Name)
			}
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				return true
			}
			for _, lhs := range n.Lhs {
				if f := throughApp(lhs, fields); f != "" {
					report(lhs, "assignment through the built app's %s: make it an operator setting instead", f)
				}
			}
		case *ast.IncDecStmt:
			if f := throughApp(n.X, fields); f != "" {
				report(n.X, "change through the built app's %s", f)
			}
		case *ast.CallExpr:
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok && strings.HasPrefix(sel.Sel.Name, "Set") {
				if f := throughApp(sel.X, fields); f != "" {
					report(n, "%s called through the built app's %s: make it an operator setting instead", sel.Sel.Name, f)
				}
			}
		}
		return true
	})
	return out, nil
}

// throughApp returns the app field (Resolver, Config, Auth, …) that the
// selector chain e (a.Resolver.Ledger.F, b.app.Config.Live.X) names below
// its root, or "".
func throughApp(e ast.Expr, fields []string) string {
	for {
		switch x := e.(type) {
		case *ast.SelectorExpr:
			if slices.Contains(fields, x.Sel.Name) {
				return x.Sel.Name
			}
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.StarExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		default:
			return ""
		}
	}
}

// TestBenchmarksBuildAppAsServerDoes: every benchmark under bench/ builds
// linli through app.Start, the function server's main runs, and sets
// only what an operator can (its flags); none builds services of its own
// or changes the built app's. The checker is shown to catch a benchmark
// that does, first.
func TestBenchmarksBuildAppAsServerDoes(t *testing.T) {
	fields := appFields(t)
	fset := token.NewFileSet()

	bad := `package main

import (
	"context"

	"linli/app"
	"linli/ledger"
	lt "linli/linlitest"
)

func setUp(ctx context.Context, b *bench) {
	cfg := app.DefaultConfig()
	cfg.TokenCacheTTL = 0
	a, _ := app.New(ctx, cfg)
	a.Resolver.Ledger.SingleStatement = true
	b.app.Config.Live.PlainCounts = true
	a.Resolver.Ledger.SetPublisher(nil)
	_ = ledger.New(a.DB, nil)
	_ = lt.New(nil, "postgres")
	a.Auth.Limits++
}
`
	got, err := benchViolations(fset, "bad.go", bad, fields)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"app.DefaultConfig", "app.New", "Resolver", "Config", "SetPublisher", "ledger.New", "linlitest.New", "Auth"} {
		if !slices.ContainsFunc(got, func(v string) bool { return strings.Contains(v, want) }) {
			t.Errorf("the checker missed %s in the bad example; it found:\n%s", want, strings.Join(got, "\n"))
		}
	}
	good := `package main

import (
	"context"

	"linli/app"
	"linli/ledger"
)

func setUp(ctx context.Context) (*app.App, error) {
	a, err := app.Start(ctx, []string{"-login-rate", "0", "-demo=false"})
	if err != nil {
		return nil, err
	}
	_, _ = a.Resolver.Ledger.SignUp(ctx, ledger.SignUpInput{SlotID: 1})
	cfg := options{}
	cfg.rounds = 3
	return a, nil
}
`
	if got, err := benchViolations(fset, "good.go", good, fields); err != nil || len(got) > 0 {
		t.Errorf("the checker refused the good example (%v):\n%s", err, strings.Join(got, "\n"))
	}

	var files int
	err = filepath.WalkDir("../bench", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		files++
		v, err := benchViolations(fset, path, nil, fields)
		for _, line := range v {
			t.Error(line)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatal("no benchmark sources found under ../bench")
	}

	// And server's main builds linli through the same function.
	main, err := parser.ParseFile(fset, "../server/main.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var starts bool
	ast.Inspect(main, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "app" {
				starts = starts || sel.Sel.Name == "Start"
				if sel.Sel.Name == "New" || sel.Sel.Name == "NewWithDB" {
					t.Errorf("%s: server builds linli with app.%s, not app.Start", fset.Position(sel.Pos()), sel.Sel.Name)
				}
			}
		}
		return true
	})
	if !starts {
		t.Error("server/main.go does not call app.Start")
	}
}
