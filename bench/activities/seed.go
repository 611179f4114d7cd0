package main

import (
	"context"
	"fmt"
	"time"

	"linli/app"
	"linli/ent/activity"
	"linli/ent/slot"
	"linli/viewer"
)

// seed creates a community like the N+1 test's: n published activities with
// 2 or 3 slots each over 6 teams and 4 venues, and a resident; it returns
// the resident's bearer token.
func seed(ctx context.Context, a *app.App, n int) (string, error) {
	sys := viewer.System(ctx)
	c := a.DB.Client
	com, err := c.Community.Create().SetName("前进社区").SetTown("枞阳镇").SetCity("铜陵市").SetHouseholds(526).Save(sys)
	if err != nil {
		return "", err
	}
	var teams, venues []int
	for i := range 6 {
		t, err := c.Team.Create().SetCommunityID(com.ID).SetName(fmt.Sprintf("志愿服务队 %d", i+1)).Save(sys)
		if err != nil {
			return "", err
		}
		teams = append(teams, t.ID)
	}
	for _, name := range []string{"社区广场", "道德讲堂", "市民学校", "阳光家园"} {
		v, err := c.Venue.Create().SetCommunityID(com.ID).SetName(name).Save(sys)
		if err != nil {
			return "", err
		}
		venues = append(venues, v.ID)
	}
	start := time.Now().UTC().Add(72 * time.Hour).Truncate(time.Minute)
	for i := range n {
		act, err := c.Activity.Create().SetCommunityID(com.ID).SetTitle(fmt.Sprintf("义诊 第%d期", i+1)).
			SetCategory(activity.CategorySQUARE).SetServiceType(activity.ServiceTypeHEALTH).SetStatus(activity.StatusPUBLISHED).
			SetStartsAt(start.Add(time.Duration(i) * 24 * time.Hour)).SetEndsAt(start.Add(time.Duration(i)*24*time.Hour + 3*time.Hour)).
			SetTeamID(teams[i%len(teams)]).SetVenueID(venues[i%len(venues)]).Save(sys)
		if err != nil {
			return "", err
		}
		slots := []struct {
			name     string
			kind     slot.Kind
			capacity int
		}{{"就诊名额", slot.KindATTENDEE, 40}, {"医生", slot.KindVOLUNTEER, 2}, {"引导员", slot.KindVOLUNTEER, 4}}
		if i%2 == 1 {
			slots = slots[:2]
		}
		for _, s := range slots {
			if err := c.Slot.Create().SetCommunityID(com.ID).SetActivityID(act.ID).SetName(s.name).SetKind(s.kind).SetCapacity(s.capacity).Exec(sys); err != nil {
				return "", err
			}
		}
	}
	p, err := c.Person.Create().SetCommunityID(com.ID).SetDisplayName("李娜").SetPhone("13900000001").
		SetPasswordHash("unused").SetRoles([]string{string(viewer.Resident)}).Save(sys)
	if err != nil {
		return "", err
	}
	s, err := a.Auth.IssueToken(sys, p.ID)
	if err != nil {
		return "", err
	}
	return s.Token, nil
}
