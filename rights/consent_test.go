package rights_test

import (
	"testing"
	"time"

	"linli/cst"
	"linli/ent/activity"
	"linli/linlitest"
	"linli/viewer"
)

const signUpQ = `mutation($s: ID!, $c: Boolean) { signUp(input: {slotID: $s, consentSensitive: $c}) { outcome } }`

// TestConsentIsTheSourceOfTruth: the consent given with a health sign-up is
// recorded; withdrawing it stops health sign-ups until a new consent; a
// minor needs a guardian's consent recorded by staff, whatever they say
// themselves; nobody but the person and staff of their community give or
// withdraw it.
func TestConsentIsTheSourceOfTruth(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		other := e.Community(t, "红旗社区")
		_, coord := e.Person(t, c.ID, "汪晓梅", viewer.Coordinator)
		_, otherCoord := e.Person(t, other.ID, "刘建国", viewer.Coordinator)
		res, rtok := e.Person(t, c.ID, "章桂兰")
		neighbour, ntok := e.Person(t, c.ID, "王小明")
		soon := time.Now().UTC().Add(72 * time.Hour)
		health := func() string {
			_, slots := e.Activity(t, c.ID, linlitest.ActivitySpec{Title: "义诊", ServiceType: activity.ServiceTypeHEALTH,
				Status: activity.StatusPUBLISHED, StartsAt: soon})
			return e.ID(slots[0].ID)
		}

		e.Do(t, rtok, signUpQ, map[string]any{"s": health()}).WantCode(t, "CONSENT_REQUIRED")
		e.Do(t, rtok, signUpQ, map[string]any{"s": health(), "c": true}).WantCode(t, "")
		var mine struct {
			MyConsents []struct {
				Purpose     string
				WithdrawnAt *string
			}
		}
		e.Do(t, rtok, `{ myConsents { purpose withdrawnAt } }`, nil).Decode(t, &mine)
		if len(mine.MyConsents) != 1 || mine.MyConsents[0].Purpose != "HEALTH_SIGNUP" || mine.MyConsents[0].WithdrawnAt != nil {
			t.Fatalf("consents after a health sign-up: %+v", mine.MyConsents)
		}
		// In force: the next health sign-up needs no flag.
		e.Do(t, rtok, signUpQ, map[string]any{"s": health()}).WantCode(t, "")

		// Others cannot withdraw or give it.
		for _, tok := range []string{ntok, otherCoord} {
			e.Do(t, tok, `mutation($p: ID!) { withdrawConsent(purpose: HEALTH_SIGNUP, personID: $p) { id } }`,
				map[string]any{"p": e.ID(res.ID)}).WantCode(t, "NOT_FOUND")
			e.Do(t, tok, `mutation($p: ID!) { giveConsent(input: {purpose: PHOTOS, wordingVersion: "v1", personID: $p}) { id } }`,
				map[string]any{"p": e.ID(res.ID)}).WantCode(t, "NOT_FOUND")
		}
		e.Do(t, ntok, `query($c: ID!) { consents(communityID: $c) { personName } }`, map[string]any{"c": e.ID(c.ID)}).WantCode(t, "FORBIDDEN")
		e.Do(t, otherCoord, `query($c: ID!) { consents(communityID: $c) { personName } }`, map[string]any{"c": e.ID(c.ID)}).WantCode(t, "FORBIDDEN")

		// Withdrawn: health sign-ups stop until a new consent.
		e.Do(t, rtok, `mutation { withdrawConsent(purpose: HEALTH_SIGNUP) { withdrawnAt } }`, nil).WantCode(t, "")
		e.Do(t, rtok, signUpQ, map[string]any{"s": health()}).WantCode(t, "CONSENT_REQUIRED")
		e.Do(t, rtok, `mutation { withdrawConsent(purpose: HEALTH_SIGNUP) { withdrawnAt } }`, nil).WantCode(t, "NOT_FOUND")

		// A minor (10 this year): their own consent does not count.
		year := time.Now().In(cst.Zone).Year() - 10
		var prof struct{ UpdateMyProfile struct{ Minor bool } }
		e.Do(t, ntok, `mutation($y: Int!) { updateMyProfile(input: {birthYear: $y}) { minor } }`, map[string]any{"y": year}).Decode(t, &prof)
		if !prof.UpdateMyProfile.Minor {
			t.Fatalf("born %d: want minor", year)
		}
		e.Do(t, ntok, signUpQ, map[string]any{"s": health(), "c": true}).WantCode(t, "CONSENT_REQUIRED")
		e.Do(t, ntok, `mutation { giveConsent(input: {purpose: HEALTH_SIGNUP, wordingVersion: "health-2026-01"}) { id } }`, nil).WantCode(t, "CONSENT_REQUIRED")
		// Staff record the guardian's consent; then the sign-up goes through.
		e.Do(t, coord, `mutation($p: ID!) { giveConsent(input: {purpose: HEALTH_SIGNUP, wordingVersion: "health-2026-01", personID: $p, byGuardian: true}) { byGuardian recordedByID } }`,
			map[string]any{"p": e.ID(neighbour.ID)}).WantCode(t, "")
		e.Do(t, ntok, signUpQ, map[string]any{"s": health(), "c": true}).WantCode(t, "")

		// Staff see who consented to what.
		var list struct {
			Consents []struct {
				PersonName string
				ByGuardian bool
			}
		}
		e.Do(t, coord, `query($c: ID!) { consents(communityID: $c, purpose: HEALTH_SIGNUP, inForce: true) { personName byGuardian } }`,
			map[string]any{"c": e.ID(c.ID)}).Decode(t, &list)
		if len(list.Consents) != 1 || list.Consents[0].PersonName != "王小明" || !list.Consents[0].ByGuardian {
			t.Fatalf("consents in force: %+v", list.Consents)
		}
		// Audited.
		var log struct {
			AuditLog struct {
				Edges []struct{ Node struct{ Action string } }
			}
		}
		e.Do(t, coord, `query($c: ID!) { auditLog(communityID: $c, first: 50, where: {actions: ["consent.give", "consent.withdraw"]}) { edges { node { action } } } }`,
			map[string]any{"c": e.ID(c.ID)}).Decode(t, &log)
		if len(log.AuditLog.Edges) != 3 {
			t.Errorf("consent audit entries: %+v", log.AuditLog.Edges)
		}
	})
}

// TestDeletionIsOnlyForOneselfAndStaff: through the public API, nobody
// deletes someone else except staff of that person's community, and a
// coordinator cannot delete a platform admin.
func TestDeletionIsOnlyForOneselfAndStaff(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		other := e.Community(t, "红旗社区")
		_, coord := e.Person(t, c.ID, "汪晓梅", viewer.Coordinator)
		_, otherCoord := e.Person(t, other.ID, "刘建国", viewer.Coordinator)
		_, leader := e.Person(t, c.ID, "方志远", viewer.TeamLeader, viewer.Volunteer)
		admin, _ := e.Person(t, c.ID, "平台管理员", viewer.Admin)
		victim, vtok := e.Person(t, c.ID, "章桂兰")
		_, rtok := e.Person(t, c.ID, "吴小雨")
		del := `mutation($p: ID!) { deletePerson(personID: $p, reason: "r", writtenRequestRef: "w") }`
		for _, tok := range []string{rtok, leader, otherCoord} {
			e.Do(t, tok, del, map[string]any{"p": e.ID(victim.ID)}).WantCode(t, "NOT_FOUND")
		}
		e.Do(t, "", del, map[string]any{"p": e.ID(victim.ID)}).WantCode(t, "UNAUTHENTICATED")
		e.Do(t, coord, del, map[string]any{"p": e.ID(admin.ID)}).WantCode(t, "NOT_FOUND")
		if e.Do(t, vtok, `{ viewer { id } }`, nil).Code() != "" {
			t.Fatal("the victim was signed out by refused deletions")
		}

		// Oneself: the password (or a phone code) confirms it.
		e.Do(t, vtok, `mutation { deleteMyAccount(password: "not-my-password-1") }`, nil).WantCode(t, "UNAUTHENTICATED")
		e.Do(t, vtok, `mutation { deleteMyAccount }`, nil).WantCode(t, "VALIDATION_FAILED")
		e.Do(t, vtok, `mutation($pw: String!) { deleteMyAccount(password: $pw) }`, map[string]any{"pw": linlitest.Password}).WantCode(t, "")
		if got := e.Do(t, vtok, `{ viewer { id } }`, nil).Code(); got != "UNAUTHENTICATED" {
			t.Errorf("token after deleteMyAccount: want UNAUTHENTICATED, got %q", got)
		}
		e.Do(t, "", loginQ, map[string]any{"p": victim.Phone, "pw": linlitest.Password}).WantCode(t, "UNAUTHENTICATED")
	})
}
