package webhooks_test

import (
	"strings"
	"testing"

	"linli/app"
	"linli/ent/auditentry"
	"linli/linlitest"
	"linli/viewer"
	"linli/webhooks"
)

const (
	createWebhook = `mutation($in: CreateWebhookInput!) { createWebhook(input: $in) { secret webhook { id url events description } } }`
	deleteWebhook = `mutation($id: ID!) { deleteWebhook(id: $id) }`
	listWebhooks  = `query($c: ID) { webhooks(communityID: $c) { id url events } }`
	deliveries    = `query($id: ID!) { webhookDeliveries(webhookID: $id, first: 10) { totalCount edges { node { uuid event status attempts lastError responseCode } } } }`
)

func allowPrivate(c *app.Config) { c.Channels.WebhooksAllowPrivate = true }

type created struct {
	CreateWebhook struct {
		Secret  string
		Webhook struct {
			ID, URL, Description string
			Events               []string
		}
	}
}

// Staff register, list and delete their community's webhooks; residents
// are FORBIDDEN; another community's staff see none of it (NOT_FOUND); a
// generated secret is shown once and given ones are bounded; creation and
// deletion are audited.
func TestWebhookRegistration(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "汪晓梅", viewer.Coordinator)
		_, resident := e.Person(t, c.ID, "章桂兰")
		c2 := e.Community(t, "红旗社区")
		_, coord2 := e.Person(t, c2.ID, "刘建国", viewer.Coordinator)
		in := map[string]any{"url": "http://127.0.0.1:9/hook", "events": []string{"WAITLIST_PROMOTED"}, "description": "区平台对接"}

		e.Do(t, "", createWebhook, map[string]any{"in": in}).WantCode(t, "UNAUTHENTICATED")
		e.Do(t, resident, createWebhook, map[string]any{"in": in}).WantCode(t, "FORBIDDEN")
		e.Do(t, resident, listWebhooks, nil).WantCode(t, "FORBIDDEN")
		e.Do(t, coord2, createWebhook, map[string]any{"in": merge(in, map[string]any{"communityID": e.ID(c.ID)})}).WantCode(t, "NOT_FOUND")
		e.Do(t, coord, createWebhook, map[string]any{"in": merge(in, map[string]any{"events": []string{"NO_SUCH_EVENT"}})}).WantCode(t, "VALIDATION_FAILED")
		e.Do(t, coord, createWebhook, map[string]any{"in": merge(in, map[string]any{"events": []string{}})}).WantCode(t, "VALIDATION_FAILED")
		e.Do(t, coord, createWebhook, map[string]any{"in": merge(in, map[string]any{"secret": "short"})}).WantCode(t, "VALIDATION_FAILED")
		e.Do(t, coord, createWebhook, map[string]any{"in": merge(in, map[string]any{"url": "gopher://x/"})}).WantCode(t, "VALIDATION_FAILED")

		var out created
		e.Do(t, coord, createWebhook, map[string]any{"in": in}).Decode(t, &out)
		w := out.CreateWebhook
		if !strings.HasPrefix(w.Secret, "whsec_") || len(w.Secret) < 40 || w.Webhook.URL != "http://127.0.0.1:9/hook" ||
			w.Webhook.Description != "区平台对接" || len(w.Webhook.Events) != 1 {
			t.Fatalf("created %+v", w)
		}
		var given created
		e.Do(t, coord, createWebhook, map[string]any{"in": merge(in, map[string]any{"secret": strings.Repeat("s", 32)})}).Decode(t, &given)
		if given.CreateWebhook.Secret != strings.Repeat("s", 32) {
			t.Fatalf("given secret answered as %q", given.CreateWebhook.Secret)
		}

		var list struct{ Webhooks []struct{ ID string } }
		e.Do(t, coord, listWebhooks, nil).Decode(t, &list)
		if len(list.Webhooks) != 2 {
			t.Fatalf("listed %v", list.Webhooks)
		}
		e.Do(t, coord2, listWebhooks, nil).Decode(t, &list)
		if len(list.Webhooks) != 0 {
			t.Fatalf("the other community's staff list %v", list.Webhooks)
		}
		e.Do(t, coord2, listWebhooks, map[string]any{"c": e.ID(c.ID)}).WantCode(t, "NOT_FOUND")

		// Another community's staff can neither read nor delete it.
		e.Do(t, coord2, deliveries, map[string]any{"id": w.Webhook.ID}).WantCode(t, "NOT_FOUND")
		e.Do(t, coord2, deleteWebhook, map[string]any{"id": w.Webhook.ID}).WantCode(t, "NOT_FOUND")
		e.Do(t, resident, deliveries, map[string]any{"id": w.Webhook.ID}).WantCode(t, "FORBIDDEN")
		e.Do(t, resident, deleteWebhook, map[string]any{"id": w.Webhook.ID}).WantCode(t, "FORBIDDEN")
		// node(id:) does not show it to them either.
		if r := e.Do(t, coord2, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": w.Webhook.ID}); r.Code() == "" && !strings.Contains(string(r.Data), "null") {
			t.Fatalf("node() showed another community's webhook: %s", r.Data)
		}

		e.Do(t, coord, deleteWebhook, map[string]any{"id": w.Webhook.ID})
		e.Do(t, coord, deleteWebhook, map[string]any{"id": w.Webhook.ID}).WantCode(t, "NOT_FOUND")
		e.Do(t, coord, listWebhooks, nil).Decode(t, &list)
		if len(list.Webhooks) != 1 {
			t.Fatalf("after deleting one, listed %v", list.Webhooks)
		}
		for action, want := range map[string]int{webhooks.ActionCreate: 2, webhooks.ActionDelete: 1} {
			n, err := e.Client.AuditEntry.Query().Where(auditentry.Action(action), auditentry.CommunityID(c.ID)).Count(e.Sys())
			if err != nil || n != want {
				t.Fatalf("%d %s audit entries (%v), want %d", n, action, err, want)
			}
		}
	}, allowPrivate)
}

// Without -webhooks-allow-private, loopback, private and link-local URLs
// are refused with ADDRESS_NOT_ALLOWED (field url).
func TestWebhookPrivateAddressRefused(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		_, coord := e.Person(t, c.ID, "汪晓梅", viewer.Coordinator)
		for _, u := range []string{"http://127.0.0.1:8080/hook", "http://localhost/hook", "http://10.0.0.7/", "http://169.254.169.254/latest/meta-data", "http://[::1]/"} {
			r := e.Do(t, coord, createWebhook, map[string]any{"in": map[string]any{"url": u, "events": []string{"WAITLIST_PROMOTED"}}})
			r.WantCode(t, "ADDRESS_NOT_ALLOWED")
			if r.Field() != "url" {
				t.Fatalf("%s: field %q, want url", u, r.Field())
			}
		}
	})
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
