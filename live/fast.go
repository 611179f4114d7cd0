package live

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"linli/gid"
	"linli/graph/model"
)

// FastCounts is a gqlgen extension that serves activityCounts subscriptions
// without running the executor once per subscriber and snapshot: each
// distinct selection is rendered once per snapshot and the bytes are shared
// by every subscriber that asked for it. Thousands of phones watch one
// activity; executing the same selection thousands of times per change
// costs several times what writing the result to the sockets does.
//
// The operation has already been parsed, validated and checked against the
// limits. Authorization is the resolver's (Broker.ActivityCounts). Anything
// the fast path does not cover (another subscription, @defer, a refusal)
// goes to the executor unchanged, so errors look the same either way.
func (b *Broker) FastCounts() graphql.HandlerExtension { return fastCounts{b} }

type fastCounts struct{ b *Broker }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = fastCounts{}

func (fastCounts) ExtensionName() string                   { return "LiveFastCounts" }
func (fastCounts) Validate(graphql.ExecutableSchema) error { return nil }
func (f fastCounts) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
		return next(ctx)
	}
	p, ok := f.b.plans.get(ctx, oc)
	if !ok {
		return next(ctx)
	}
	if _, err := f.b.authorizeCounts(ctx, p.activityID); err != nil {
		return next(ctx) // the resolver refuses it again, in the usual shape
	}
	ch, err := f.b.subscribeSnapshots(ctx, p.activityID)
	if err != nil {
		return next(ctx)
	}
	return func(ctx context.Context) *graphql.Response {
		select {
		case s := <-ch:
			return &graphql.Response{Data: s.render(p)}
		case <-ctx.Done():
			return nil
		}
	}
}

// countsPlan is a validated activityCounts selection: what to write, in
// order, under which names.
type countsPlan struct {
	activityID int
	alias      string
	fields     []planField
	slotFields []planField
	key        string // identifies the shape for the render cache
	// ids writes activityID and slotID as the executor's ID scalar does.
	ids *gid.Codec
}

type planField struct{ alias, name string }

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

var (
	countsFields = map[string]bool{"activityID": true, "version": true, "slots": true, "__typename": true}
	slotFields   = map[string]bool{"slotID": true, "capacity": true, "taken": true, "waitlisted": true, "checkedIn": true, "__typename": true}
)

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
	for _, f := range graphql.CollectFields(oc, root[0].Selections, []string{"ActivityCounts"}) {
		if !countsFields[f.Name] || len(f.Arguments) > 0 || len(f.Deferrables) > 0 {
			return nil, false
		}
		p.fields = append(p.fields, planField{f.Alias, f.Name})
		key.WriteString("," + f.Alias + ":" + f.Name)
		if f.Name != "slots" {
			continue
		}
		if p.slotFields != nil {
			return nil, false // slots twice under different aliases: leave it to the executor
		}
		p.slotFields = []planField{}
		key.WriteString("{")
		for _, sf := range graphql.CollectFields(oc, f.Selections, []string{"SlotCounts"}) {
			if !slotFields[sf.Name] || len(sf.Arguments) > 0 || len(sf.Deferrables) > 0 {
				return nil, false
			}
			p.slotFields = append(p.slotFields, planField{sf.Alias, sf.Name})
			key.WriteString(sf.Alias + ":" + sf.Name + ",")
		}
		key.WriteString("}")
	}
	p.key = key.String()
	return p, true
}

// render returns the response data for plan, rendering it on first use.
// Thousands of subscribers ask at the same moment, so the common case (one
// shape, already rendered) reads without locking.
func (s *snapshot) render(p *countsPlan) []byte {
	if r := s.rendered.Load(); r != nil && r.key == p.key {
		return r.data
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.others[p.key]; ok {
		return b
	}
	b := renderCounts(s.counts, p)
	if s.rendered.Load() == nil {
		s.rendered.Store(&rendering{key: p.key, data: b})
		return b
	}
	if s.others == nil {
		s.others = map[string][]byte{}
	}
	s.others[p.key] = b
	return b
}

func renderCounts(c *model.ActivityCounts, p *countsPlan) []byte {
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
		switch f.name {
		case "activityID":
			b = appendID(b, p.ids, c.ActivityID)
		case "version":
			b = strconv.AppendInt(b, int64(c.Version), 10)
		case "__typename":
			b = append(b, `"ActivityCounts"`...)
		case "slots":
			b = append(b, '[')
			for j, sl := range c.Slots {
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, '{')
				for k, sf := range p.slotFields {
					if k > 0 {
						b = append(b, ',')
					}
					b = strconv.AppendQuote(b, sf.alias)
					b = append(b, ':')
					switch sf.name {
					case "slotID":
						b = appendID(b, p.ids, sl.SlotID)
					case "capacity":
						b = strconv.AppendInt(b, int64(sl.Capacity), 10)
					case "taken":
						b = strconv.AppendInt(b, int64(sl.Taken), 10)
					case "waitlisted":
						b = strconv.AppendInt(b, int64(sl.Waitlisted), 10)
					case "checkedIn":
						b = strconv.AppendInt(b, int64(sl.CheckedIn), 10)
					case "__typename":
						b = append(b, `"SlotCounts"`...)
					}
				}
				b = append(b, '}')
			}
			b = append(b, ']')
		}
	}
	b = append(b, "}}"...)
	return b
}

// appendID writes id as a JSON string in the API's form (base32: nothing to
// escape).
func appendID(b []byte, ids *gid.Codec, id int) []byte {
	b = append(b, '"')
	b = ids.AppendEncoded(b, id)
	return append(b, '"')
}
