package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// pageData is a page of 50 activities shaped like the browsing query's
// answer (bench/activities): id, title, three slots, team and venue.
func pageData() []byte {
	var b strings.Builder
	b.WriteString(`{"activities":{"edges":[`)
	for i := range 50 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"node":{"id":"AEBAGBA%02d","title":"社区义诊 <第%d场> & 健康讲座","slots":[`, i, i)
		for j := range 3 {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":"AEBAGBB%02d%d","name":"上午 %d","capacity":%d,"taken":%d,"available":%d}`, i, j, j, 20+j, j*3, 20-2*j)
		}
		b.WriteString(`],"team":{"name":"志愿者服务队"},"venue":{"name":"前进社区活动中心"}}}`)
	}
	b.WriteString(`]}}`)
	return []byte(b.String())
}

// mockServer is gqlgen's handler over a schema whose one query answers
// data, with errors and extensions added as asked, through tr.
func mockServer(tr graphql.Transport, data []byte, errs []string, ext map[string]any) *handler.Server {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `type Query { activities: Int }`})
	srv := handler.New(&graphql.ExecutableSchemaMock{
		SchemaFunc:     func() *ast.Schema { return schema },
		ComplexityFunc: func(context.Context, string, string, int, map[string]any) (int, bool) { return 0, false },
		ExecFunc: func(ctx context.Context) graphql.ResponseHandler {
			return graphql.OneShot(&graphql.Response{Data: data})
		},
	})
	srv.AddTransport(tr)
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		r := next(ctx)
		for _, e := range errs {
			r.Errors = append(r.Errors, &gqlerror.Error{Message: e, Path: ast.Path{ast.PathName("activities")}})
		}
		if ext != nil {
			r.Extensions = ext
		}
		return r
	})
	return srv
}

func post(h http.Handler) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ activities }"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// linli's POST transport answers a request that runs as gqlgen's own
// transport.POST does: same status, same media type, the same JSON, with
// or without errors and extensions. If a gqlgen upgrade changes what a
// response holds, the two differ here.
func TestPostTransportMatchesGqlgen(t *testing.T) {
	for name, c := range map[string]struct {
		data []byte
		errs []string
		ext  map[string]any
	}{
		"data":            {data: pageData()},
		"null data":       {data: []byte("null")},
		"data and errors": {data: []byte(`{"activities":null}`), errs: []string{"boom"}},
		"extensions":      {data: []byte(`{"activities":1}`), ext: map[string]any{"cost": 3}},
	} {
		ours := post(mockServer(postTransport{}, c.data, c.errs, c.ext))
		stock := post(mockServer(transport.POST{}, c.data, c.errs, c.ext))
		if ours.Code != stock.Code || ours.Header().Get("Content-Type") != stock.Header().Get("Content-Type") {
			t.Fatalf("%s: linli %d %s, gqlgen %d %s", name, ours.Code, ours.Header().Get("Content-Type"), stock.Code, stock.Header().Get("Content-Type"))
		}
		var o, s any
		if err := json.Unmarshal(ours.Body.Bytes(), &o); err != nil {
			t.Fatalf("%s: linli wrote invalid JSON %s", name, ours.Body)
		}
		if err := json.Unmarshal(stock.Body.Bytes(), &s); err != nil {
			t.Fatalf("%s: gqlgen wrote invalid JSON %s", name, stock.Body)
		}
		if !reflect.DeepEqual(o, s) {
			t.Fatalf("%s: linli %s\ngqlgen %s", name, ours.Body, stock.Body)
		}
	}
}

// Every field of graphql.Response but Data sends a response to
// encoding/json; a field gqlgen adds is covered without a change here.
func TestDataOnlyLooksAtEveryResponseField(t *testing.T) {
	typ := reflect.TypeFor[graphql.Response]()
	if len(responseFields) != typ.NumField()-1 {
		t.Fatalf("responseFields %v for %d fields", responseFields, typ.NumField())
	}
	if !dataOnly(&graphql.Response{Data: []byte(`{}`)}) ||
		!dataOnly(&graphql.Response{Data: []byte(`{}`), Extensions: map[string]any{}, Errors: gqlerror.List{}}) {
		t.Fatal("a data-only response (empty errors and extensions) is not framed by hand")
	}
	for _, i := range responseFields {
		r := &graphql.Response{Data: []byte(`{}`)}
		f := reflect.ValueOf(r).Elem().Field(i)
		switch f.Kind() {
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		case reflect.Map:
			f.Set(reflect.MakeMap(f.Type()))
			f.SetMapIndex(reflect.ValueOf("k"), reflect.ValueOf(any(1)))
		case reflect.String:
			f.SetString("x")
		default:
			t.Fatalf("graphql.Response.%s is a %s: extend this test", typ.Field(i).Name, f.Kind())
		}
		if dataOnly(r) {
			t.Fatalf("a response with %s set is framed by hand", typ.Field(i).Name)
		}
		var buf bytes.Buffer
		writeResponse(&buf, r)
		if !json.Valid(buf.Bytes()) {
			t.Fatalf("with %s set: invalid JSON %s", typ.Field(i).Name, buf.Bytes())
		}
	}
}

// BenchmarkPostTransport compares linli's POST transport with gqlgen's
// transport.POST on the same gqlgen server answering a page of 50
// activities (the executor's part is the same in both and mocked out).
func BenchmarkPostTransport(b *testing.B) {
	data := pageData()
	for _, tr := range []struct {
		name string
		t    graphql.Transport
	}{{"linli", postTransport{}}, {"gqlgen", transport.POST{}}} {
		srv := mockServer(tr.t, data, nil, nil)
		b.Run(tr.name, func(b *testing.B) {
			for b.Loop() {
				if rec := post(srv); rec.Code != http.StatusOK {
					b.Fatal(rec.Code, rec.Body)
				}
			}
		})
	}
}
