package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"linli/apperr"
)

// Limits refuses operations that are too deep or too expensive, and
// connections without a page size, before any resolver runs. It walks the
// validated operation once, stopping as soon as a limit is passed, so its own
// cost is bounded by the limits.
type Limits struct {
	MaxDepth      int
	MaxComplexity int
	MaxPage       int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = Limits{}

// ExtensionName implements graphql.HandlerExtension.
func (Limits) ExtensionName() string { return "LinliLimits" }

// Validate implements graphql.HandlerExtension.
func (Limits) Validate(graphql.ExecutableSchema) error { return nil }

type limitErr struct {
	code  apperr.Code
	field string
	msg   string
}

// MutateOperationContext implements graphql.OperationContextMutator.
func (l Limits) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	w := walker{l: l, vars: oc.Variables}
	cost := w.selections(oc.Operation.SelectionSet, 1)
	if w.err == nil && cost > l.MaxComplexity {
		w.fail(apperr.QueryTooComplex, "", fmt.Sprintf("query costs %d, more than the limit of %d", cost, l.MaxComplexity))
	}
	if w.err != nil {
		return &gqlerror.Error{Message: w.err.msg, Extensions: map[string]any{"code": string(w.err.code), "field": w.err.field}}
	}
	return nil
}

type walker struct {
	l     Limits
	vars  map[string]any
	spent int
	err   *limitErr
}

func (w *walker) fail(code apperr.Code, field, msg string) {
	if w.err == nil {
		w.err = &limitErr{code: code, field: field, msg: msg}
	}
}

// selections returns the cost of a selection set at depth d.
func (w *walker) selections(set ast.SelectionSet, d int) int {
	total := 0
	for _, sel := range set {
		if w.err != nil {
			return total
		}
		switch s := sel.(type) {
		case *ast.Field:
			total += w.field(s, d)
		case *ast.InlineFragment:
			total += w.selections(s.SelectionSet, d)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				total += w.selections(s.Definition.SelectionSet, d)
			}
		}
	}
	return total
}

func (w *walker) field(f *ast.Field, d int) int {
	if d > w.l.MaxDepth {
		w.fail(apperr.QueryTooComplex, "", fmt.Sprintf("query is nested deeper than %d levels", w.l.MaxDepth))
		return 0
	}
	// Every field visited counts toward the budget, so pathological shapes
	// (fragments spread many times) stop the walk early.
	w.spent++
	if w.spent > w.l.MaxComplexity {
		w.fail(apperr.QueryTooComplex, "", fmt.Sprintf("query selects more than %d fields", w.l.MaxComplexity))
		return 0
	}
	mult := 1
	if f.Definition != nil && f.Definition.Type != nil && strings.HasSuffix(f.Definition.Type.Name(), "Connection") {
		args := f.ArgumentMap(w.vars)
		first, hasFirst := intArg(args["first"])
		last, hasLast := intArg(args["last"])
		switch {
		case !hasFirst && !hasLast:
			w.fail(apperr.ValidationFailed, "first", fmt.Sprintf("%s needs first or last (1 to %d)", f.Alias, w.l.MaxPage))
			return 0
		case hasFirst && (first < 1 || first > w.l.MaxPage):
			w.fail(apperr.ValidationFailed, "first", fmt.Sprintf("first must be between 1 and %d", w.l.MaxPage))
			return 0
		case hasLast && (last < 1 || last > w.l.MaxPage):
			w.fail(apperr.ValidationFailed, "last", fmt.Sprintf("last must be between 1 and %d", w.l.MaxPage))
			return 0
		}
		mult = max(first, last)
	}
	children := w.selections(f.SelectionSet, d+1)
	return 1 + mult*children
}

func intArg(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		return int(n), true
	}
	return 0, false
}
