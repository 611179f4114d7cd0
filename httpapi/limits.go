package httpapi

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"linli/apperr"
	"linli/graph/generated"
)

// Limits refuses operations that are too deep or too expensive, connections
// without a page size, oversized input values and disabled introspection,
// before any resolver runs (so before any SQL). It walks the validated
// operation once, stopping as soon as a limit is passed, so its own cost is
// bounded by the limits.
//
// A list field multiplies the cost of what it selects by its bound (ListBound,
// or ListBounds for fields known to be short). Those bounds are estimates, so
// the operation also carries a budget of resolved fields (MaxResolvedFields):
// past it, every further field fails at once and the response is replaced by
// one QUERY_TOO_COMPLEX error.
type Limits struct {
	MaxDepth      int
	MaxComplexity int
	MaxPage       int
	// ListBound is the cost multiplier of a list field (a non-connection
	// field returning a list of objects); ListBounds overrides it per
	// "Type.field".
	ListBound  int
	ListBounds map[string]int
	// MaxResolvedFields bounds the fields one response resolves (every list
	// element's fields counted); 0 leaves it unbounded.
	MaxResolvedFields int
	// MaxStringBytes bounds every string in an argument (titleContains: a
	// 200 KB LIKE pattern is refused by SQLite and slow on PostgreSQL).
	MaxStringBytes int
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
	graphql.ResponseInterceptor
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
	if oc.Operation.Operation == ast.Subscription && len(graphql.CollectFields(oc, oc.Operation.SelectionSet, nil)) != 1 {
		// A subscription is one stream (the spec's single root field rule;
		// gqlgen's executor would fail it as an internal error).
		return (&limitErr{code: apperr.ValidationFailed, msg: "a subscription selects exactly one root field"}).gqlError()
	}
	w := walker{l: l, vars: oc.Variables, noIntrospection: oc.DisableIntrospection}
	cost := w.selections(oc.Operation.SelectionSet, 1)
	if w.err == nil && cost > l.MaxComplexity {
		w.fail(apperr.QueryTooComplex, "", fmt.Sprintf("query costs %d, more than the limit of %d", cost, l.MaxComplexity))
	}
	if w.err != nil {
		return w.err.gqlError()
	}
	if l.MaxResolvedFields > 0 {
		// Last: plain fields skip the field middleware only when it is
		// gqlgen's own plus this budget (graph/generated/plain.go).
		generated.InstallFieldBudget(oc, int64(l.MaxResolvedFields), errOverBudget)
	}
	return nil
}

var errOverBudget = &apperr.Error{Code: apperr.QueryTooComplex, Message: "query resolves too many fields"}

// InterceptResponse implements graphql.ResponseInterceptor: each response
// (each event of a subscription) gets the whole budget, and a response that
// ran out of it answers one error instead of the fields it had resolved and
// one error per field it then refused.
func (l Limits) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	b, _ := oc.Stats.GetExtension(generated.FieldBudgetKey).(*generated.FieldBudget)
	if b == nil {
		return next(ctx)
	}
	b.Reset()
	resp := next(ctx)
	if resp == nil || !b.Over() {
		return resp
	}
	msg := fmt.Sprintf("query resolves more than %d fields", l.MaxResolvedFields)
	if oc.Operation != nil && oc.Operation.Operation == ast.Mutation {
		// Its resolvers ran: say so, so the answer does not read as a
		// failure to retry.
		msg = fmt.Sprintf("the mutation was carried out, but its answer resolves more than %d fields; select less", l.MaxResolvedFields)
	}
	return &graphql.Response{Data: []byte("null"), Errors: gqlerror.List{(&limitErr{code: apperr.QueryTooComplex, msg: msg}).gqlError()}}
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
	switch {
	case f.Definition != nil && f.Definition.Type != nil && strings.HasSuffix(f.Definition.Type.Name(), "Connection"):
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
	case f.Definition != nil && f.Definition.Type != nil && f.Definition.Type.Elem != nil && len(f.SelectionSet) > 0 && !w.introspecting:
		// Introspection's lists are as long as the schema is large.
		mult = w.l.listBound(f)
	}
	children := w.selections(f.SelectionSet, d+1)
	return 1 + mult*children
}

// listBound is the multiplier of a list field. A connection's edges and
// nodes are already counted by the connection's page size.
func (l Limits) listBound(f *ast.Field) int {
	parent := ""
	if f.ObjectDefinition != nil {
		parent = f.ObjectDefinition.Name
	}
	if strings.HasSuffix(parent, "Connection") {
		return 1
	}
	if n, ok := l.ListBounds[parent+"."+f.Name]; ok {
		return n
	}
	return l.ListBound
}

// input checks one argument, literal or variable, against the input limits.
func (w *walker) input(arg string, v *ast.Value) {
	m := inputMeasure{maxDepth: w.l.MaxInputDepth, maxList: w.l.MaxListLength, maxString: w.l.MaxStringBytes, budget: w.l.MaxInputValues - w.values}
	m.name = arg
	m.literal(v, w.vars, 0)
	w.values += m.seen
	switch {
	case m.longString != "":
		w.fail(apperr.ValidationFailed, m.longString, fmt.Sprintf("%s is longer than %d bytes", m.longString, w.l.MaxStringBytes))
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
	maxDepth, maxList, maxString, budget int
	seen                                 int
	tooDeep, tooLong                     bool
	// name is the argument or input field being measured; longString
	// names the first one holding a string longer than maxString.
	name, longString string
}

func (m *inputMeasure) over() bool {
	return m.tooDeep || m.tooLong || m.longString != "" || m.seen > m.budget
}

// str measures a string value.
func (m *inputMeasure) str(n int) {
	if m.maxString > 0 && n > m.maxString && m.longString == "" {
		m.longString = m.name
	}
}

// within measures fn's values as those of the input field name.
func (m *inputMeasure) within(name string, fn func()) {
	outer := m.name
	m.name = name
	fn()
	m.name = outer
}

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
		if v.Kind == ast.StringValue || v.Kind == ast.BlockValue {
			m.str(len(v.Raw))
		}
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
		if v.Kind == ast.ObjectValue {
			m.within(c.Name, func() { m.literal(c.Value, vars, d+1) })
		} else {
			m.literal(c.Value, vars, d+1)
		}
		if m.over() {
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
		for k, c := range x {
			if m.within(k, func() { m.variable(c, d+1) }); m.over() {
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
	case string:
		m.str(len(x))
		m.enter(d)
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
			if m.within(fmt.Sprint(it.Key().Interface()), func() { m.variable(it.Value().Interface(), d+1) }); m.over() {
				return
			}
		}
	case reflect.String:
		m.str(rv.Len())
		m.enter(d)
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
