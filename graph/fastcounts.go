package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"linli/gid"
	"linli/live"
)

// FastCounts is a gqlgen extension that serves activityCounts subscriptions
// without running the executor once per subscriber and snapshot: each
// distinct selection is rendered once per snapshot (live.Snapshot.Rendered)
// and the bytes are shared by every subscriber that asked for it. Thousands
// of phones watch one activity; executing the same selection thousands of
// times per change costs several times what writing the result to the
// sockets does (BenchmarkCountsFanout in live measures both).
//
// The operation has already been parsed, validated and checked against the
// limits. Authorization is the broker's (CountsSnapshots, the same check as
// the resolver's). Anything the fast path does not cover (another
// subscription, @defer, a refusal) goes to the executor unchanged, so
// errors look the same either way.
//
// What it writes for each field is the one table countsWriters /
// slotWriters; Validate, which gqlgen calls when the extension is added to
// the server, refuses a schema whose ActivityCounts or SlotCounts has a
// field the table does not write, or lacks one it does, so a schema change
// stops the server from starting instead of serving a wrong shape.
func FastCounts(b *live.Broker) graphql.HandlerExtension { return &fastCounts{b: b} }

type fastCounts struct {
	b     *live.Broker
	plans planCache
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = (*fastCounts)(nil)

func (*fastCounts) ExtensionName() string { return "LiveFastCounts" }

// Validate checks the writers against the schema (see FastCounts).
func (*fastCounts) Validate(es graphql.ExecutableSchema) error {
	return checkCountsWriters(es.Schema())
}

func checkCountsWriters(s *ast.Schema) error {
	for _, t := range []struct {
		name    string
		writers []string
	}{
		{"ActivityCounts", slices.Collect(maps.Keys(countsWriters))},
		{"SlotCounts", slices.Collect(maps.Keys(slotWriters))},
	} {
		def := s.Types[t.name]
		if def == nil {
			return fmt.Errorf("FastCounts: the schema has no type %s", t.name)
		}
		var fields []string
		for _, f := range def.Fields {
			if !strings.HasPrefix(f.Name, "__") {
				fields = append(fields, f.Name)
			}
		}
		slices.Sort(fields)
		slices.Sort(t.writers)
		if !slices.Equal(fields, t.writers) {
			return fmt.Errorf("FastCounts: %s has fields %v in the schema but graph/fastcounts.go writes %v; update countsWriters/slotWriters", t.name, fields, t.writers)
		}
	}
	return nil
}

func (f *fastCounts) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
		return next(ctx)
	}
	p, ok := f.plans.get(ctx, oc)
	if !ok {
		return next(ctx)
	}
	ch, err := f.b.CountsSnapshots(ctx, p.activityID)
	if err != nil {
		return next(ctx) // the resolver refuses it again, in the usual shape
	}
	render := p.render
	return func(ctx context.Context) *graphql.Response {
		select {
		case s := <-ch:
			return &graphql.Response{Data: s.Rendered(p.key, render)}
		case <-ctx.Done():
			return nil
		}
	}
}

// Writers append one field's JSON value. ids writes IDs as the executor's
// ID scalar does (base32: nothing to escape). "slots" is written by
// countsPlan.render from the slot plan.
var (
	countsWriters = map[string]func(b []byte, c *live.ActivityCounts, ids *gid.Codec) []byte{
		"activityID": func(b []byte, c *live.ActivityCounts, ids *gid.Codec) []byte { return appendID(b, ids, c.ActivityID) },
		"version": func(b []byte, c *live.ActivityCounts, _ *gid.Codec) []byte {
			return strconv.AppendInt(b, int64(c.Version), 10)
		},
		"slots": nil,
	}
	slotWriters = map[string]func(b []byte, s *live.SlotCounts, ids *gid.Codec) []byte{
		"slotID": func(b []byte, s *live.SlotCounts, ids *gid.Codec) []byte { return appendID(b, ids, s.SlotID) },
		"capacity": func(b []byte, s *live.SlotCounts, _ *gid.Codec) []byte {
			return strconv.AppendInt(b, int64(s.Capacity), 10)
		},
		"taken": func(b []byte, s *live.SlotCounts, _ *gid.Codec) []byte {
			return strconv.AppendInt(b, int64(s.Taken), 10)
		},
		"waitlisted": func(b []byte, s *live.SlotCounts, _ *gid.Codec) []byte {
			return strconv.AppendInt(b, int64(s.Waitlisted), 10)
		},
		"checkedIn": func(b []byte, s *live.SlotCounts, _ *gid.Codec) []byte {
			return strconv.AppendInt(b, int64(s.CheckedIn), 10)
		},
	}
)

func appendID(b []byte, ids *gid.Codec, id int) []byte {
	b = append(b, '"')
	b = ids.AppendEncoded(b, id)
	return append(b, '"')
}

// countsPlan is a validated activityCounts selection: what to write, in
// order, under which names.
type countsPlan struct {
	activityID int
	alias      string
	fields     []planField
	slotFields []planField
	key        string // identifies the shape for the render cache
	ids        *gid.Codec
}

// planField is one selected field; typename is set for __typename.
type planField struct {
	alias, name, typename string
}

// planCache shares plans between subscriptions of the same cached query
// document and variables: thousands of phones send the same subscription,
// and collecting its fields once saves both time and the per-operation
// caches CollectFields would fill.
type planCache struct {
	mu    sync.Mutex
	plans map[planKey]*countsPlan
}

type planKey struct {
	doc       *ast.QueryDocument
	operation string
	variables string
}

func (c *planCache) get(ctx context.Context, oc *graphql.OperationContext) (*countsPlan, bool) {
	vars, err := json.Marshal(oc.Variables)
	if err != nil {
		return nil, false
	}
	k := planKey{oc.Doc, oc.OperationName, string(vars)}
	c.mu.Lock()
	p, ok := c.plans[k]
	c.mu.Unlock()
	if ok {
		return p, p != nil
	}
	p, _ = planCounts(ctx, oc)
	c.mu.Lock()
	if c.plans == nil || len(c.plans) >= 1024 {
		c.plans = map[planKey]*countsPlan{} // plenty for the shapes clients send
	}
	c.plans[k] = p
	c.mu.Unlock()
	return p, p != nil
}

// collectPlain collects the fields of sel on typ, refusing (ok false) a
// field the writers do not know, arguments, and @defer.
func collectPlain(oc *graphql.OperationContext, sel ast.SelectionSet, typ string, known func(string) bool) (fields []graphql.CollectedField, ok bool) {
	fields = graphql.CollectFields(oc, sel, []string{typ})
	for _, f := range fields {
		if f.Name != "__typename" && !known(f.Name) || len(f.Arguments) > 0 || len(f.Deferrables) > 0 {
			return nil, false
		}
	}
	return fields, true
}

func planCounts(ctx context.Context, oc *graphql.OperationContext) (*countsPlan, bool) {
	root := graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{"Subscription"})
	if len(root) != 1 || root[0].Name != "activityCounts" || len(root[0].Deferrables) > 0 {
		return nil, false
	}
	id, err := gid.UnmarshalID(ctx, root[0].ArgumentMap(oc.Variables)["activityID"])
	if err != nil {
		return nil, false // the executor refuses it, in the usual shape
	}
	p := &countsPlan{activityID: id, alias: root[0].Alias, ids: gid.FromContext(ctx)}
	var key strings.Builder
	key.WriteString(p.alias)
	fields, ok := collectPlain(oc, root[0].Selections, "ActivityCounts", func(n string) bool { _, ok := countsWriters[n]; return ok })
	if !ok {
		return nil, false
	}
	for _, f := range fields {
		p.fields = append(p.fields, planField{alias: f.Alias, name: f.Name, typename: typenameOf(f.Name, "ActivityCounts")})
		key.WriteString("," + f.Alias + ":" + f.Name)
		if f.Name != "slots" {
			continue
		}
		if p.slotFields != nil {
			return nil, false // slots twice under different aliases: leave it to the executor
		}
		sfs, ok := collectPlain(oc, f.Selections, "SlotCounts", func(n string) bool { _, ok := slotWriters[n]; return ok })
		if !ok {
			return nil, false
		}
		p.slotFields = []planField{}
		key.WriteString("{")
		for _, sf := range sfs {
			p.slotFields = append(p.slotFields, planField{alias: sf.Alias, name: sf.Name, typename: typenameOf(sf.Name, "SlotCounts")})
			key.WriteString(sf.Alias + ":" + sf.Name + ",")
		}
		key.WriteString("}")
	}
	p.key = key.String()
	return p, true
}

func typenameOf(field, typ string) string {
	if field == "__typename" {
		return typ
	}
	return ""
}

// render writes the response data for p.
func (p *countsPlan) render(c *live.ActivityCounts) []byte {
	b := make([]byte, 0, 96+64*len(c.Slots))
	b = append(b, '{')
	b = strconv.AppendQuote(b, p.alias)
	b = append(b, ":{"...)
	for i, f := range p.fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, f.alias)
		b = append(b, ':')
		switch {
		case f.typename != "":
			b = strconv.AppendQuote(b, f.typename)
		case f.name == "slots":
			b = p.renderSlots(b, c.Slots)
		default:
			b = countsWriters[f.name](b, c, p.ids)
		}
	}
	return append(b, "}}"...)
}

func (p *countsPlan) renderSlots(b []byte, slots []*live.SlotCounts) []byte {
	b = append(b, '[')
	for j, s := range slots {
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		for k, f := range p.slotFields {
			if k > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendQuote(b, f.alias)
			b = append(b, ':')
			if f.typename != "" {
				b = strconv.AppendQuote(b, f.typename)
			} else {
				b = slotWriters[f.name](b, s, p.ids)
			}
		}
		b = append(b, '}')
	}
	return append(b, ']')
}
