package rights_test

import (
	"strings"
	"testing"

	"linli/ent/notification"
	"linli/ent/notificationpreference"
	"linli/ent/wechatbinding"
	"linli/linlitest"
	"linli/viewer"
)

// TestOtherPackagesJoinRights: what notify, the channels and the calendar
// hold about a person is in their data download and goes with their account:
// the inbox and preferences are deleted, the WeChat address forgotten, the
// calendar feed's URL answers 404.
func TestOtherPackagesJoinRights(t *testing.T) {
	linlitest.Run(t, func(t *testing.T, e *linlitest.Env) {
		c := e.Community(t, "前进社区")
		p, tok := e.Person(t, c.ID, "欧阳通知", viewer.Volunteer)
		// An inbox entry as notify writes one (the causes are tested in notify/).
		if err := e.Client.Notification.Create().SetCommunityID(c.ID).SetPersonID(p.ID).SetKind(notification.KindREMINDER).
			SetTitle("明天的义诊提醒").SetBody("义诊 明天 09:00 社区卫生站").SetSource("test:1").Exec(e.Sys()); err != nil {
			t.Fatal(err)
		}
		e.Do(t, tok, `mutation { updateNotificationPreferences(input: {reminderLeadMinutes: [60]}) { reminderLeadMinutes } }`, nil).WantCode(t, "")
		e.Do(t, tok, `mutation { setWechatAddress(openid: "oWX-openid-42") }`, nil).WantCode(t, "")
		var feed struct {
			RotateCalendarFeed struct{ Path string }
		}
		r := e.Do(t, tok, `mutation { rotateCalendarFeed { path } }`, nil)
		r.WantCode(t, "")
		r.Decode(t, &feed)
		if status, _ := get(t, e, "", feed.RotateCalendarFeed.Path); status != 200 {
			t.Fatalf("feed before deletion: %d", status)
		}

		status, body := get(t, e, tok, "/me/data?format=json")
		if status != 200 {
			t.Fatalf("GET /me/data: %d %s", status, body)
		}
		s := string(body)
		for _, want := range []string{`"notifications"`, "明天的义诊提醒", `"notificationPreferences"`, `"calendarFeeds"`, `"PERSON"`, `"notificationDeliveries"`, "oWX-openid-42"} {
			if !strings.Contains(s, want) {
				t.Errorf("download lacks %s", want)
			}
		}

		e.Do(t, tok, `mutation($pw: String!) { deleteMyAccount(password: $pw) }`, map[string]any{"pw": linlitest.Password}).WantCode(t, "")
		sys := e.Sys()
		if n := e.Client.Notification.Query().Where(notification.PersonID(p.ID)).CountX(sys); n != 0 {
			t.Errorf("inbox after deletion: %d notifications", n)
		}
		if n := e.Client.NotificationPreference.Query().Where(notificationpreference.PersonID(p.ID)).CountX(sys); n != 0 {
			t.Errorf("preferences after deletion: %d", n)
		}
		if n := e.Client.WechatBinding.Query().Where(wechatbinding.PersonID(p.ID)).CountX(sys); n != 0 {
			t.Errorf("WeChat address after deletion: %d", n)
		}
		if status, _ := get(t, e, "", feed.RotateCalendarFeed.Path); status != 404 {
			t.Errorf("feed after deletion: %d, want 404", status)
		}
	})
}
