package httpapi

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"
	"github.com/vektah/gqlparser/v2/parser"

	"linli/apperr"
)

// preValidate bounds a query's size before gqlparser validates it. The
// validator compares fields pairwise (1,990 repeated __typename: a quarter
// second of CPU, well inside the token limit) and rechecks nested literals
// at every level (300 nested and: [...]: 40 ms), and a query that fails
// validation is not cached, so it can be sent again and again. Counting
// tokens, selections and literal depth on a cheap parse first keeps every
// query's validation in the low milliseconds. Queries already in the cache
// passed these checks and skip them.
type preValidate struct {
	tokens, selections, inputDepth int
	cache                          graphql.Cache[*ast.QueryDocument]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = preValidate{}

func (preValidate) ExtensionName() string                   { return "LinliPreValidate" }
func (preValidate) Validate(graphql.ExecutableSchema) error { return nil }

func (p preValidate) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	if raw.Query == "" {
		return nil
	}
	if _, ok := p.cache.Get(ctx, raw.Query); ok {
		return nil
	}
	if !withinTokens(raw.Query, p.tokens) {
		return tooComplex(fmt.Sprintf("query has more than %d tokens", p.tokens))
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: raw.Query})
	if err != nil {
		return nil // gqlgen reports the syntax error itself
	}
	s := shape{maxDepth: p.inputDepth}
	for _, op := range doc.Operations {
		s.selectionSet(op.SelectionSet)
		for _, v := range op.VariableDefinitions {
			if s.literal(v.DefaultValue, 1); s.tooDeep && s.arg == "" {
				s.arg = "$" + v.Variable
			}
		}
		s.directives(op.Directives)
	}
	for _, f := range doc.Fragments {
		s.selectionSet(f.SelectionSet)
		s.directives(f.Directives)
	}
	switch {
	case s.selections > p.selections:
		return tooComplex(fmt.Sprintf("query has more than %d selections", p.selections))
	case s.tooDeep:
		return (&limitErr{code: apperr.ValidationFailed, field: s.arg,
			msg: fmt.Sprintf("%s nests more than %d levels deep", s.arg, p.inputDepth)}).gqlError()
	}
	return nil
}

func tooComplex(msg string) *gqlerror.Error {
	return (&limitErr{code: apperr.QueryTooComplex, msg: msg}).gqlError()
}

// withinTokens reports whether q has at most limit tokens; it stops lexing
// at the first token past the limit.
func withinTokens(q string, limit int) bool {
	lx := lexer.New(&ast.Source{Input: q})
	for n := 0; ; n++ {
		tok, err := lx.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			return true // a lexing error is gqlgen's to report
		}
		if n >= limit {
			return false
		}
	}
}

// shape counts what the validator's cost grows with: selections (fields,
// spreads and inline fragments as written, fragments not expanded) and the
// nesting of literal input values.
type shape struct {
	maxDepth   int
	selections int
	tooDeep    bool
	arg        string
}

func (s *shape) selectionSet(set ast.SelectionSet) {
	for _, sel := range set {
		s.selections++
		switch x := sel.(type) {
		case *ast.Field:
			for _, a := range x.Arguments {
				if s.literal(a.Value, 1); s.tooDeep && s.arg == "" {
					s.arg = a.Name
				}
			}
			s.directives(x.Directives)
			s.selectionSet(x.SelectionSet)
		case *ast.InlineFragment:
			s.directives(x.Directives)
			s.selectionSet(x.SelectionSet)
		case *ast.FragmentSpread:
			s.directives(x.Directives)
		}
	}
}

func (s *shape) directives(ds ast.DirectiveList) {
	for _, d := range ds {
		for _, a := range d.Arguments {
			if s.literal(a.Value, 1); s.tooDeep && s.arg == "" {
				s.arg = a.Name
			}
		}
	}
}

// literal marks tooDeep when v nests objects and lists deeper than maxDepth.
func (s *shape) literal(v *ast.Value, d int) {
	if v == nil || s.tooDeep || (v.Kind != ast.ListValue && v.Kind != ast.ObjectValue) {
		return
	}
	if d > s.maxDepth {
		s.tooDeep = true
		return
	}
	for _, c := range v.Children {
		s.literal(c.Value, d+1)
	}
}
