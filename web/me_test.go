package web_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"linli/ent/auditentry"
	"linli/ent/consent"
	"linli/linlitest"
	"linli/rights"
	"linli/viewer"
)

// /me in a real browser: a resident signs in, downloads their data as JSON
// (their name in it) and Excel, corrects their name and birth year,
// withdraws one of two consents and deletes their account, after which the
// server refuses the page's token; with no console error, failed request,
// CSP violation or token in a URL. On the server: the correction landed
// before the deletion (audited), exactly that consent was withdrawn by the
// page, and the account is anonymised with every session refused.
func TestMePageInChromium(t *testing.T) {
	browser := chromium(t)
	node, dir := linlitest.NodeProject(t, filepath.Join("testdata", "e2e"))
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		p, token := e.Person(t, c.ID, "章桂兰", viewer.Resident)
		for _, purpose := range []string{"HEALTH_SIGNUP", "PHOTOS"} {
			e.Do(t, token, `mutation($p: ConsentPurpose!) { giveConsent(input: {purpose: $p, wordingVersion: "2026-01"}) { id } }`,
				map[string]any{"p": purpose}).Decode(t, &struct{}{})
		}
		shots := os.Getenv("LINLI_BROWSER_SHOTS")
		if shots == "" {
			shots = t.TempDir()
		} else {
			shots = filepath.Join(shots, e.Backend)
		}
		cfg := map[string]any{
			"url": e.Server.URL, "chromium": browser, "shots": shots,
			"phone": p.Phone, "password": linlitest.Password, "name": p.DisplayName,
			"newName": "章桂芝", "birthYear": 1951, "withdraw": "PHOTOS", "consents": 2,
		}
		cfgPath := filepath.Join(t.TempDir(), "config.json")
		b, _ := json.Marshal(cfg)
		if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, "me.mjs", cfgPath)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		t.Logf("me.mjs:\n%s", out)
		if err != nil {
			t.Fatalf("me.mjs: %v", err)
		}
		if strings.Contains(string(out), token) {
			t.Error("the browser run printed a token")
		}

		// The correction was made (audited) before the deletion.
		if n, err := e.Client.AuditEntry.Query().Where(auditentry.ActorID(p.ID), auditentry.ActionEQ(rights.ActionProfileUpdate)).Count(e.Sys()); err != nil || n != 1 {
			t.Errorf("profile updates audited: %d %v, want 1", n, err)
		}
		// The page withdrew PHOTOS; the deletion then withdrew the rest.
		cs, err := e.Client.Consent.Query().Where(consent.PersonID(p.ID)).All(e.Sys())
		if err != nil || len(cs) != 2 {
			t.Fatalf("consents: %v %v", cs, err)
		}
		for _, c := range cs {
			if c.WithdrawnAt == nil {
				t.Errorf("%s still in force after the deletion", c.Purpose)
			}
		}
		// Deleted: anonymised, and the fixture's own session refused too.
		after, err := e.Client.Person.Get(e.Sys(), p.ID)
		if err != nil || after.DeletedAt == nil || strings.Contains(after.DisplayName, "章桂") || after.Phone == p.Phone || after.BirthYear != nil {
			t.Errorf("person after the deletion: %+v %v", after, err)
		}
		if n, err := e.Client.AuditEntry.Query().Where(auditentry.ActionEQ(rights.ActionDeleteSelf), auditentry.SubjectID(p.ID)).Count(e.Sys()); err != nil || n != 1 {
			t.Errorf("deletions audited: %d %v, want 1", n, err)
		}
		if code := e.Do(t, token, `{ myProfile { id } }`, nil).Code(); code != "UNAUTHENTICATED" {
			t.Errorf("the fixture's token after the deletion: %q, want UNAUTHENTICATED", code)
		}
	})
}
