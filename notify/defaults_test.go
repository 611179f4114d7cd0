package notify_test

import (
	"slices"
	"testing"

	"linli/ent/auditentry"
	"linli/linlitest"
	"linli/notify"
	"linli/viewer"
)

// Staff change their community's notification defaults: a person who
// chose nothing gets the new lead times and quiet hours, a person with
// their own keeps theirs; the change is audited. A resident is FORBIDDEN,
// another community's coordinator NOT_FOUND, and the rules are a
// person's preferences' rules.
func TestCommunityNotificationDefaults(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		com := e.Community(t, "前进社区")
		other := e.Community(t, "东山社区")
		_, staffTok := e.Person(t, com.ID, "社工", viewer.Coordinator)
		_, otherTok := e.Person(t, other.ID, "东山社工", viewer.Coordinator)
		_, resTok := e.Person(t, com.ID, "居民")
		_, ownTok := e.Person(t, com.ID, "有主见的居民")
		setPrefs(t, e, ownTok, map[string]any{"reminderLeadMinutes": []int{30}})

		const read = `query($c: ID!) { communityNotificationDefaults(communityID: $c) { communityID reminderLeadMinutes quietHoursStart quietHoursEnd } }`
		const update = `mutation($c: ID!, $in: CommunityNotificationDefaultsInput!) { updateCommunityNotificationDefaults(communityID: $c, input: $in) { communityID reminderLeadMinutes quietHoursStart quietHoursEnd } }`
		type defaults struct {
			CommunityID                    string
			ReminderLeadMinutes            []int
			QuietHoursStart, QuietHoursEnd string
		}
		var got struct{ CommunityNotificationDefaults defaults }
		e.Do(t, staffTok, read, map[string]any{"c": e.ID(com.ID)}).Decode(t, &got)
		if d := got.CommunityNotificationDefaults; !slices.Equal(d.ReminderLeadMinutes, []int{1440, 120}) || d.QuietHoursStart != "22:00" || d.QuietHoursEnd != "07:00" || d.CommunityID != e.ID(com.ID) {
			t.Errorf("defaults before: %+v", d)
		}
		in := map[string]any{"reminderLeadMinutes": []int{60, 180, 60}, "quietHoursStart": "21:30", "quietHoursEnd": "06:30"}
		var upd struct{ UpdateCommunityNotificationDefaults defaults }
		e.Do(t, staffTok, update, map[string]any{"c": e.ID(com.ID), "in": in}).Decode(t, &upd)
		if d := upd.UpdateCommunityNotificationDefaults; !slices.Equal(d.ReminderLeadMinutes, []int{180, 60}) || d.QuietHoursStart != "21:30" {
			t.Errorf("defaults after: %+v", d)
		}
		prefs := func(tok string) (leads []int, start string) {
			var out struct {
				NotificationPreferences struct {
					ReminderLeadMinutes []int
					QuietHoursStart     string
				}
			}
			e.Do(t, tok, `{ notificationPreferences { reminderLeadMinutes quietHoursStart } }`, nil).Decode(t, &out)
			return out.NotificationPreferences.ReminderLeadMinutes, out.NotificationPreferences.QuietHoursStart
		}
		if leads, start := prefs(resTok); !slices.Equal(leads, []int{180, 60}) || start != "21:30" {
			t.Errorf("a person without preferences: %v %s", leads, start)
		}
		if leads, _ := prefs(ownTok); !slices.Equal(leads, []int{30}) {
			t.Errorf("a person with their own: %v", leads)
		}
		if n := e.Client.AuditEntry.Query().Where(auditentry.Action(notify.ActionDefaults), auditentry.CommunityID(com.ID)).CountX(e.Sys()); n != 1 {
			t.Errorf("%d audit entries", n)
		}

		// Who may.
		e.Do(t, resTok, read, map[string]any{"c": e.ID(com.ID)}).WantCode(t, "FORBIDDEN")
		e.Do(t, resTok, update, map[string]any{"c": e.ID(com.ID), "in": in}).WantCode(t, "FORBIDDEN")
		e.Do(t, otherTok, read, map[string]any{"c": e.ID(com.ID)}).WantCode(t, "NOT_FOUND")
		e.Do(t, otherTok, update, map[string]any{"c": e.ID(com.ID), "in": map[string]any{"reminderLeadMinutes": []int{5}}}).WantCode(t, "NOT_FOUND")
		// The rules of a person's preferences.
		for _, bad := range []map[string]any{
			{"reminderLeadMinutes": []int{0}},
			{"reminderLeadMinutes": []int{notify.MaxReminderMinutes + 1}},
			{"reminderLeadMinutes": []int{10, 20, 30, 40, 50}},
			{"quietHoursStart": "22:00"},
			{"quietHoursStart": "25:00", "quietHoursEnd": "07:00"},
		} {
			e.Do(t, staffTok, update, map[string]any{"c": e.ID(com.ID), "in": bad}).WantCode(t, "VALIDATION_FAILED")
		}
		if leads, _ := prefs(resTok); !slices.Equal(leads, []int{180, 60}) {
			t.Errorf("refused changes changed the defaults: %v", leads)
		}
	}, fast)
}
