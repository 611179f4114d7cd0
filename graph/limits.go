package graph

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"linli/apperr"
)

// Limits refuses operations that are too deep or too expensive, connections
// without a page size, oversized input values and disabled introspection,
// before any resolver runs (so before any SQL). It walks the validated
// operation once, stopping as soon as a limit is passed, so its own cost is
// bounded by the limits.
type Limits struct {
	MaxDepth      int
	MaxComplexity int
	MaxPage       int
	// MaxInputDepth bounds how deeply argument values nest (objects and
	// lists, e.g. where: {and: [{and: [...]}]}); each level becomes nested
	// SQL that databases refuse or choke on.
	MaxInputDepth int
	// MaxListLength bounds every list in an argument (idIn: [...], or: [...]):
	// SQLite and PostgreSQL cap the parameters of one statement.
	MaxListLength int
	// MaxInputValues bounds all argument values of an operation together.
	MaxInputValues int
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

func (e *limitErr) gqlError() *gqlerror.Error {
	ext := map[string]any{"code": string(e.code)}
	if e.field != "" {
		ext["field"] = e.field
	}
	return &gqlerror.Error{Message: e.msg, Extensions: ext}
}

// MutateOperationContext implements graphql.OperationContextMutator.
func (l Limits) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	w := walker{l: l, vars: oc.Variables, noIntrospection: oc.DisableIntrospection}
	cost := w.selections(oc.Operation.SelectionSet, 1)
	if w.err == nil && cost > l.MaxComplexity {
		w.fail(apperr.QueryTooComplex, "", fmt.Sprintf("query costs %d, more than the limit of %d", cost, l.MaxComplexity))
	}
	if w.err != nil {
		return w.err.gqlError()
	}
	return nil
}

type walker struct {
	l               Limits
	vars            map[string]any
	noIntrospection bool
	// introspecting is set inside __schema and __type, whose depth the
	// validator already bounds (its MaxIntrospectionDepth rule) and which
	// GraphiQL nests deeper than any data query needs.
	introspecting bool
	spent         int
	values        int
	err           *limitErr
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
	if f.Name == "__schema" || f.Name == "__type" {
		if w.noIntrospection {
			w.fail(apperr.ValidationFailed, "", "introspection is disabled")
			return 0
		}
		if !w.introspecting {
			w.introspecting = true
			defer func() { w.introspecting = false }()
		}
	}
	if d > w.l.MaxDepth && !w.introspecting {
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
	for _, a := range f.Arguments {
		w.input(a.Name, a.Value)
	}
	if w.err != nil {
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

// input checks one argument, literal or variable, against the input limits.
func (w *walker) input(arg string, v *ast.Value) {
	m := inputMeasure{maxDepth: w.l.MaxInputDepth, maxList: w.l.MaxListLength, budget: w.l.MaxInputValues - w.values}
	m.literal(v, w.vars, 0)
	w.values += m.seen
	switch {
	case m.tooDeep:
		w.fail(apperr.ValidationFailed, arg, fmt.Sprintf("%s nests more than %d levels deep", arg, w.l.MaxInputDepth))
	case m.tooLong:
		w.fail(apperr.ValidationFailed, arg, fmt.Sprintf("%s holds a list longer than %d", arg, w.l.MaxListLength))
	case m.seen > m.budget:
		w.fail(apperr.ValidationFailed, arg, fmt.Sprintf("the arguments hold more than %d values", w.l.MaxInputValues))
	}
}

// inputMeasure walks an input value, literal or from variables, and stops at
// the first limit passed.
type inputMeasure struct {
	maxDepth, maxList, budget int
	seen                      int
	tooDeep, tooLong          bool
}

func (m *inputMeasure) over() bool { return m.tooDeep || m.tooLong || m.seen > m.budget }

// enter counts one value at depth d and reports whether to look inside it.
func (m *inputMeasure) enter(d int) bool {
	m.seen++
	if d > m.maxDepth {
		m.tooDeep = true
	}
	return !m.over()
}

func (m *inputMeasure) literal(v *ast.Value, vars map[string]any, d int) {
	if v == nil {
		return
	}
	if v.Kind == ast.Variable {
		m.variable(vars[v.Raw], d)
		return
	}
	if v.Kind != ast.ListValue && v.Kind != ast.ObjectValue {
		m.enter(d)
		return
	}
	if !m.enter(d + 1) {
		return
	}
	if v.Kind == ast.ListValue && len(v.Children) > m.maxList {
		m.tooLong = true
		return
	}
	for _, c := range v.Children {
		if m.literal(c.Value, vars, d+1); m.over() {
			return
		}
	}
}

func (m *inputMeasure) variable(v any, d int) {
	switch x := v.(type) {
	case map[string]any:
		if !m.enter(d + 1) {
			return
		}
		for _, c := range x {
			if m.variable(c, d+1); m.over() {
				return
			}
		}
	case []any:
		if !m.enter(d + 1) {
			return
		}
		if len(x) > m.maxList {
			m.tooLong = true
			return
		}
		for _, c := range x {
			if m.variable(c, d+1); m.over() {
				return
			}
		}
	default:
		m.reflected(reflect.ValueOf(v), d)
	}
}

// reflected measures what coercion built itself: it wraps a single value
// given for a list type in a typed slice ([]map[string]any, []string).
func (m *inputMeasure) reflected(rv reflect.Value, d int) {
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if !m.enter(d + 1) {
			return
		}
		if rv.Len() > m.maxList {
			m.tooLong = true
			return
		}
		for i := range rv.Len() {
			if m.variable(rv.Index(i).Interface(), d+1); m.over() {
				return
			}
		}
	case reflect.Map:
		if !m.enter(d + 1) {
			return
		}
		for it := rv.MapRange(); it.Next(); {
			if m.variable(it.Value().Interface(), d+1); m.over() {
				return
			}
		}
	default:
		m.enter(d)
	}
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
