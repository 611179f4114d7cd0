package generated

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// What graph/codegen changes, rebuilt from gqlgen's own runtime calls the
// two kinds of generated code make, on a page shaped like the browsing
// query's (bench/activities): 50 activities, each with four scalars, a list
// of three slots (five scalars each), a team and a venue. The edges are
// context-taking fields, which gqlgen resolves with a goroutine each
// (FieldSet.ResolveConcurrently) and whose list it marshals with a goroutine
// per element (MarshalSliceConcurrently), under a @defer group per object
// (NewDeferredGroup); graph/codegen resolves them in line, with marshalSlice
// and an empty group.

type pageSlot struct {
	id, name                  string
	capacity, taken, availble int
}

type pageActivity struct {
	id, title, status, startsAt string
	slots                       []pageSlot
	team, venue                 string
}

func page() []pageActivity {
	out := make([]pageActivity, 50)
	for i := range out {
		a := pageActivity{id: fmt.Sprintf("AEBAGB%02d", i), title: "社区义诊", status: "PUBLISHED", startsAt: "2026-12-01T09:00:00Z", team: "志愿者服务队", venue: "活动中心"}
		for j := range 3 {
			a.slots = append(a.slots, pageSlot{fmt.Sprintf("S%02d%d", i, j), "上午", 20, j, 20 - j})
		}
		out[i] = a
	}
	return out
}

func collected(names ...string) []graphql.CollectedField {
	fs := make([]graphql.CollectedField, len(names))
	for i, n := range names {
		fs[i] = graphql.CollectedField{Field: &ast.Field{Alias: n, Name: n}}
	}
	return fs
}

var (
	activityFields = collected("id", "title", "status", "startsAt", "slots", "team", "venue")
	slotFields     = collected("id", "name", "capacity", "taken", "available")
	nameFields     = collected("name")
)

type mode struct {
	stock bool
	oc    *graphql.OperationContext
}

func (m mode) group(ctx context.Context) graphql.DeferredGroup {
	if m.stock {
		return graphql.NewDeferredGroup(ctx)
	}
	return graphql.DeferredGroup{}
}

// edge sets field i of out as the generated code does for a context-taking
// field in each mode.
func (m mode) edge(ctx context.Context, out *graphql.FieldSet, deferred *graphql.DeferredGroup, i int, f func(context.Context) graphql.Marshaler) {
	if m.stock {
		out.ResolveConcurrently(m.oc, deferred, i, true, true, f)
		return
	}
	out.Values[i] = f(ctx)
}

func (m mode) list(ctx context.Context, n int, f func(context.Context, int) graphql.Marshaler) graphql.Marshaler {
	if m.stock {
		return graphql.MarshalSliceConcurrently(ctx, n, 0, false, f)
	}
	return marshalSlice(ctx, n, 0, false, f)
}

func (m mode) named(ctx context.Context, name string) graphql.Marshaler {
	out := graphql.NewFieldSet(nameFields)
	deferred := m.group(ctx)
	out.Values[0] = graphql.MarshalString(name)
	out.Dispatch(ctx)
	_ = deferred
	return out
}

func (m mode) slot(ctx context.Context, s pageSlot) graphql.Marshaler {
	out := graphql.NewFieldSet(slotFields)
	deferred := m.group(ctx)
	out.Values[0] = graphql.MarshalString(s.id)
	out.Values[1] = graphql.MarshalString(s.name)
	out.Values[2] = graphql.MarshalInt(s.capacity)
	out.Values[3] = graphql.MarshalInt(s.taken)
	out.Values[4] = graphql.MarshalInt(s.availble)
	out.Dispatch(ctx)
	_ = deferred
	return out
}

func (m mode) activity(ctx context.Context, a pageActivity) graphql.Marshaler {
	out := graphql.NewFieldSet(activityFields)
	deferred := m.group(ctx)
	out.Values[0] = graphql.MarshalString(a.id)
	out.Values[1] = graphql.MarshalString(a.title)
	out.Values[2] = graphql.MarshalString(a.status)
	out.Values[3] = graphql.MarshalString(a.startsAt)
	m.edge(ctx, out, &deferred, 4, func(ctx context.Context) graphql.Marshaler {
		return m.list(ctx, len(a.slots), func(ctx context.Context, i int) graphql.Marshaler { return m.slot(ctx, a.slots[i]) })
	})
	m.edge(ctx, out, &deferred, 5, func(ctx context.Context) graphql.Marshaler { return m.named(ctx, a.team) })
	m.edge(ctx, out, &deferred, 6, func(ctx context.Context) graphql.Marshaler { return m.named(ctx, a.venue) })
	out.Dispatch(ctx)
	return out
}

func marshalPage(stock bool, p []pageActivity, buf *bytes.Buffer) {
	oc := &graphql.OperationContext{RecoverFunc: graphql.DefaultRecover}
	ctx := graphql.WithOperationContext(context.Background(), oc)
	ctx = graphql.WithResponseContext(ctx, graphql.DefaultErrorPresenter, graphql.DefaultRecover)
	m := mode{stock: stock, oc: oc}
	m.list(ctx, len(p), func(ctx context.Context, i int) graphql.Marshaler { return m.activity(ctx, p[i]) }).MarshalGQL(buf)
}

// Both ways write the same page.
func TestSequentialPageMatchesStock(t *testing.T) {
	var seq, stock bytes.Buffer
	marshalPage(false, page(), &seq)
	marshalPage(true, page(), &stock)
	if seq.String() != stock.String() || seq.Len() < 1000 {
		t.Fatalf("sequential %d bytes, stock %d bytes, differ", seq.Len(), stock.Len())
	}
}

// marshalSlice stands in for gqlgen's MarshalSliceConcurrently at every
// call graph/codegen rewrites, so it must keep its signature.
func TestMarshalSliceHasGqlgensSignature(t *testing.T) {
	if a, b := reflect.TypeOf(marshalSlice), reflect.TypeOf(graphql.MarshalSliceConcurrently); a != b {
		t.Fatalf("marshalSlice is %s, gqlgen's MarshalSliceConcurrently %s: revisit graph/codegen", a, b)
	}
}

// BenchmarkPage compares the executor graph/codegen writes with gqlgen's
// stock one on a page of 50 activities. "alternating" runs one page each
// way per op and reports the ratio, which stays meaningful on a loaded
// machine:
//
//	go test -run '^$' -bench 'Page/alternating' -benchtime 3000x ./graph/generated/
func BenchmarkPage(b *testing.B) {
	p := page()
	b.Run("alternating", func(b *testing.B) {
		var buf bytes.Buffer
		var seq, stock time.Duration
		for b.Loop() {
			t0 := time.Now()
			buf.Reset()
			marshalPage(false, p, &buf)
			t1 := time.Now()
			buf.Reset()
			marshalPage(true, p, &buf)
			seq += t1.Sub(t0)
			stock += time.Since(t1)
		}
		b.ReportMetric(float64(stock)/float64(seq), "stock/sequential")
	})
	for _, m := range []struct {
		name  string
		stock bool
	}{{"sequential", false}, {"stock", true}} {
		b.Run(m.name, func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				marshalPage(m.stock, p, &buf)
			}
		})
	}
}
