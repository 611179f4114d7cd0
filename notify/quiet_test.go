package notify

import (
	"testing"
	"time"

	"linli/cst"
)

func cstTime(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, cst.Zone)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// Quiet hours hold external copies until the window ends; a reminder due
// inside the window goes out just before it starts.
func TestQuietHours(t *testing.T) {
	night, err := ParseQuietHours("22:00", "07:00")
	if err != nil {
		t.Fatal(err)
	}
	day, _ := ParseQuietHours("12:00", "14:00")
	none, _ := ParseQuietHours("09:00", "09:00")
	for _, tc := range []struct {
		q                  QuietHours
		at, deliver, early string // early: "" = not inside
	}{
		{night, "2026-12-07 21:59", "2026-12-07 21:59", ""},
		{night, "2026-12-07 22:00", "2026-12-08 07:00", "2026-12-07 21:59"},
		{night, "2026-12-07 23:30", "2026-12-08 07:00", "2026-12-07 21:59"},
		{night, "2026-12-08 03:00", "2026-12-08 07:00", "2026-12-07 21:59"},
		{night, "2026-12-08 06:59", "2026-12-08 07:00", "2026-12-07 21:59"},
		{night, "2026-12-08 07:00", "2026-12-08 07:00", ""},
		{day, "2026-12-08 12:30", "2026-12-08 14:00", "2026-12-08 11:59"},
		{day, "2026-12-08 14:00", "2026-12-08 14:00", ""},
		{none, "2026-12-08 09:00", "2026-12-08 09:00", ""},
	} {
		at := cstTime(tc.at)
		if got := tc.q.Deliver(at); !got.Equal(cstTime(tc.deliver)) {
			t.Errorf("%v Deliver(%s) = %s, want %s", tc.q, tc.at, got.In(cst.Zone).Format("2006-01-02 15:04"), tc.deliver)
		}
		got := tc.q.Before(at)
		if tc.early == "" && !got.IsZero() || tc.early != "" && !got.Equal(cstTime(tc.early)) {
			t.Errorf("%v Before(%s) = %v, want %q", tc.q, tc.at, got, tc.early)
		}
	}
	for _, bad := range [][2]string{{"25:00", "07:00"}, {"22:00", "7:00"}, {"x", "07:00"}} {
		if _, err := ParseQuietHours(bad[0], bad[1]); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// A reminder is for the sweep when its moment came since the last sweep,
// or when it was moved before quiet hours that began before it was known
// (its due time still ahead); never before its moment.
func TestReminderDue(t *testing.T) {
	night, _ := ParseQuietHours("22:00", "07:00")
	start := cstTime("2026-12-08 09:00")
	for _, tc := range []struct {
		lead      int
		last, now string
		want      bool
		why       string
	}{
		{120, "2026-12-08 06:59", "2026-12-08 07:00", true, "2 h before, at 07:00"},
		{120, "2026-12-08 07:00", "2026-12-08 07:01", false, "already swept"},
		{180, "2026-12-07 21:58", "2026-12-07 21:59", true, "06:00 is quiet: at 21:59 the day before"},
		{180, "2026-12-07 23:00", "2026-12-07 23:01", true, "made at 23:00, after 21:59: due 06:00 still ahead"},
		{180, "2026-12-08 06:00", "2026-12-08 06:01", false, "due passed before the last sweep"},
		{60, "2026-12-08 07:00", "2026-12-08 07:01", false, "not yet (08:00)"},
		{1440, "2026-12-07 08:00", "2026-12-08 08:30", true, "down a day: late, the activity has not started"},
	} {
		if got := dueNow(start, tc.lead, night, cstTime(tc.last), cstTime(tc.now)); got != tc.want {
			t.Errorf("%s: dueNow = %v", tc.why, got)
		}
	}
}
