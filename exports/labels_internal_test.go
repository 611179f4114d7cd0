package exports

import (
	"testing"

	"entgo.io/ent"

	"linli/ent/activity"
	"linli/ent/registration"
	"linli/ent/request"
	"linli/ent/schema"
)

// TestEveryCodeHasALabel: every value of the enums the sheets show has its
// Chinese label (an enum value added later would otherwise show as code).
func TestEveryCodeHasALabel(t *testing.T) {
	values := func(fields []ent.Field, name string) []string {
		for _, f := range fields {
			if d := f.Descriptor(); d.Name == name {
				var out []string
				for _, e := range d.Enums {
					out = append(out, e.V)
				}
				return out
			}
		}
		t.Fatalf("no field %s", name)
		return nil
	}
	check := func(what string, codes []string, has func(string) bool) {
		if len(codes) == 0 {
			t.Fatalf("%s: no values", what)
		}
		for _, c := range codes {
			if !has(c) {
				t.Errorf("%s %s has no label", what, c)
			}
		}
	}
	act, reg, req := schema.Activity{}.Fields(), schema.Registration{}.Fields(), schema.Request{}.Fields()
	check("category", values(act, "category"), func(c string) bool { return categoryText[activity.Category(c)] != "" })
	check("service type", values(act, "service_type"), func(c string) bool { return serviceTypeText[activity.ServiceType(c)] != "" })
	check("registration status", values(reg, "status"), func(c string) bool { return statusText[registration.Status(c)] != "" })
	check("request kind", values(req, "kind"), func(c string) bool { return kindText[request.Kind(c)] != "" })
	check("channel", values(req, "channel"), func(c string) bool { return channelText[request.Channel(c)] != "" })
	check("request status", values(req, "status"), func(c string) bool { return requestStatusText[request.Status(c)] != "" })
	check("outcome", values(req, "outcome"), func(c string) bool { return outcomeText[request.Outcome(c)] != "" })
}

func TestNeutralise(t *testing.T) {
	for in, want := range map[string]string{
		"=1+2": "'=1+2", "+86 138": "'+86 138", "-5": "'-5", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx",
		"王小明": "王小明", "": "", "a=b": "a=b", " =x": " =x",
	} {
		if got := Neutralise(in); got != want {
			t.Errorf("Neutralise(%q) = %q, want %q", in, got, want)
		}
	}
	if got := text(rate(2.0 / 3)); got != "0.6667" {
		t.Errorf("a rate shows %q, want 4 decimals", got)
	}
	if got := text(2.0 / 3); got != "0.67" {
		t.Errorf("hours show %q", got)
	}
}
