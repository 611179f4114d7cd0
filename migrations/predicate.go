package migrations

import (
	"regexp"
	"strings"

	"ariga.io/atlas/sql/postgres"
	atlas "ariga.io/atlas/sql/schema"
	entschema "entgo.io/ent/dialect/sql/schema"
)

// SamePredicates is an Ent diff hook that drops the index changes whose
// only difference is how the partial-index predicate is spelled:
// PostgreSQL keeps a predicate in its own deparsed form (`status IN
// ('A','B')` comes back as `((status)::text = ANY ((ARRAY['A'::character
// varying, …])::text[]))`, or otherwise, depending on how it was written),
// so every replay would otherwise "change" the index again.
func SamePredicates(next entschema.Differ) entschema.Differ {
	return entschema.DiffFunc(func(current, desired *atlas.Schema) ([]atlas.Change, error) {
		changes, err := next.Diff(current, desired)
		if err != nil {
			return nil, err
		}
		return withoutPredicateSpelling(changes), nil
	})
}

func withoutPredicateSpelling(changes []atlas.Change) []atlas.Change {
	out := changes[:0]
	for _, c := range changes {
		if mt, ok := c.(*atlas.ModifyTable); ok {
			kept := mt.Changes[:0]
			for _, tc := range mt.Changes {
				if mi, ok := tc.(*atlas.ModifyIndex); ok && onlyPredicateSpelling(mi) {
					continue
				}
				kept = append(kept, tc)
			}
			if mt.Changes = kept; len(kept) == 0 {
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

func onlyPredicateSpelling(mi *atlas.ModifyIndex) bool {
	if mi.Change != atlas.ChangeAttr || mi.From.Unique != mi.To.Unique || len(mi.From.Parts) != len(mi.To.Parts) {
		return false
	}
	for i, p := range mi.From.Parts {
		q := mi.To.Parts[i]
		if (p.C == nil) != (q.C == nil) || p.C != nil && p.C.Name != q.C.Name || p.Desc != q.Desc {
			return false
		}
	}
	var p1, p2 postgres.IndexPredicate
	h1, h2 := has(mi.From.Attrs, &p1), has(mi.To.Attrs, &p2)
	return h1 && h2 && normalPredicate(p1.P) == normalPredicate(p2.P)
}

func has(attrs []atlas.Attr, p *postgres.IndexPredicate) bool {
	for _, a := range attrs {
		if q, ok := a.(*postgres.IndexPredicate); ok {
			*p = *q
			return true
		}
	}
	return false
}

var (
	casts   = regexp.MustCompile(`::[a-z ]+(\[\])?`)
	anyOf   = regexp.MustCompile(`=\s*any\s*\(`)
	noise   = regexp.MustCompile(`[^a-z0-9_'<>=!]+`)
	arrayKw = regexp.MustCompile(`\barray\b`)
)

// normalPredicate reduces a predicate to its words, operators and
// literals: casts, parentheses, ARRAY[…] and = ANY (…) spelled as IN go.
func normalPredicate(p string) string {
	p = strings.ToLower(p)
	p = casts.ReplaceAllString(p, "")
	p = anyOf.ReplaceAllString(p, " in (")
	p = arrayKw.ReplaceAllString(p, " ")
	return strings.Join(strings.Fields(noise.ReplaceAllString(p, " ")), " ")
}
