package demo

import (
	"context"
	"fmt"
	"time"

	"linli/ent"
	"linli/ent/activity"
	"linli/ent/person"
	"linli/ent/registration"
	"linli/ent/slot"
	"linli/ent/team"
	"linli/ent/venue"
	"linli/ledger"
	"linli/viewer"
)

// Today makes sure every venue of the demo communities has activities today
// by now's clock, so the kiosk, the board and check-in can be tried the
// minute the server is up, whatever day it is: at each venue with no
// published activity under way or starting within the next three hours it
// adds one under way (started 30 minutes ago, 3 hours long) and one starting
// in 45 minutes (check-in already open), each with seats and volunteer
// positions. The demo accounts are signed up for them (吴小雨 as a volunteer,
// 章桂兰 for a seat, in 前进社区) with a few generated residents, some of
// them checked in at the activity under way. Only communities holding a
// demo account's phone are touched (a real community is never). It runs on
// every start with the demo on, and adds nothing when the day is covered;
// it reports how many activities it added.
func Today(ctx context.Context, client *ent.Client, now time.Time) (added int, err error) {
	ctx = viewer.System(ctx)
	phones := make([]string, len(Accounts))
	for i, a := range Accounts {
		phones[i] = a.Phone
	}
	accounts, err := client.Person.Query().Where(person.PhoneIn(phones...)).All(ctx)
	if err != nil {
		return 0, fmt.Errorf("demo today: %w", err)
	}
	byPhone, communities := map[string]*ent.Person{}, map[int]bool{}
	for _, p := range accounts {
		byPhone[p.Phone] = p
		communities[p.CommunityID] = true
	}
	now = now.UTC().Truncate(time.Second)
	tx, err := client.Tx(ctx)
	if err != nil {
		return 0, fmt.Errorf("demo today: %w", err)
	}
	for cid := range communities {
		n, err := today(ctx, tx.Client(), cid, now, byPhone)
		if err != nil {
			return 0, rollback(tx, fmt.Errorf("demo today: %w", err))
		}
		added += n
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("demo today: commit: %w", err)
	}
	return added, nil
}

// todayKinds gives each demo venue a fitting category and service type.
var todayKinds = map[string]struct {
	category    activity.Category
	serviceType activity.ServiceType
	under, soon string
}{
	venueSquare: {activity.CategorySQUARE, activity.ServiceTypeHEALTH, "今日义诊：量血压、测血糖", "今日广场文艺演出"},
	venueHall:   {activity.CategoryHALL, activity.ServiceTypeEDUCATION, "今日道德讲堂：邻里守望", "今日道德讲堂：孝老爱亲"},
	venueSchool: {activity.CategorySCHOOL, activity.ServiceTypeEDUCATION, "今日市民学校：智能手机课", "今日四点半课堂"},
	venueHome:   {activity.CategoryFAMILY, activity.ServiceTypePOVERTY_RELIEF, "今日阳光家园：陪伴老人", "今日阳光家园：手工课"},
	venueClinic: {activity.CategorySQUARE, activity.ServiceTypeHEALTH, "今日健康讲座：慢病管理", "今日中医义诊"},
}

func today(ctx context.Context, c *ent.Client, cid int, now time.Time, accounts map[string]*ent.Person) (int, error) {
	venues, err := c.Venue.Query().Where(venue.CommunityID(cid)).Order(ent.Asc(venue.FieldID)).All(ctx)
	if err != nil {
		return 0, err
	}
	tm, err := c.Team.Query().Where(team.CommunityID(cid)).Order(ent.Asc(team.FieldID)).First(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return 0, err
	}
	// A few generated residents (no password) to fill the lists.
	residents, err := c.Person.Query().Where(person.CommunityID(cid), person.PasswordHash("")).
		Order(ent.Asc(person.FieldID)).Limit(8).All(ctx)
	if err != nil {
		return 0, err
	}
	volunteer, resident := accounts[qianjinVolunteer.Phone], accounts[qianjinResident.Phone]
	added := 0
	for _, v := range venues {
		covered, err := c.Activity.Query().Where(activity.VenueID(v.ID), activity.StatusEQ(activity.StatusPUBLISHED),
			activity.EndsAtGT(now), activity.StartsAtLT(now.Add(3*time.Hour))).Exist(ctx)
		if err != nil || covered {
			if err != nil {
				return 0, err
			}
			continue
		}
		k, ok := todayKinds[v.Name]
		if !ok {
			k = todayKinds[venueSquare]
			k.under, k.soon = "今日"+v.Name+"志愿服务", "今日"+v.Name+"邻里活动"
		}
		for i, spec := range []struct {
			title    string
			start    time.Time
			duration time.Duration
		}{{k.under, now.Add(-30 * time.Minute), 3 * time.Hour}, {k.soon, now.Add(45 * time.Minute), 2 * time.Hour}} {
			b := c.Activity.Create().SetCommunityID(cid).SetVenueID(v.ID).SetTitle(spec.title).
				SetDescription("演示数据：今天在「" + v.Name + "」的活动，用于试用签到平板、大屏和扫码签到。").
				SetCategory(k.category).SetServiceType(k.serviceType).SetStatus(activity.StatusPUBLISHED).
				SetStartsAt(spec.start).SetEndsAt(spec.start.Add(spec.duration)).
				SetSignupOpensAt(now.Add(-3 * 24 * time.Hour)).SetSignupClosesAt(spec.start.Add(spec.duration)).
				SetPublishedAt(now.Add(-4 * 24 * time.Hour))
			if tm != nil {
				b.SetTeamID(tm.ID)
			}
			a, err := b.Save(ctx)
			if err != nil {
				return 0, err
			}
			underWay := i == 0
			if err := todaySlots(ctx, c, a, underWay, volunteer, resident, residents); err != nil {
				return 0, err
			}
			added++
		}
	}
	return added, nil
}

// todaySlots adds an activity's seats and volunteer positions with their
// sign-ups; at the activity under way the first three residents are in.
func todaySlots(ctx context.Context, c *ent.Client, a *ent.Activity, underWay bool, volunteer, resident *ent.Person, residents []*ent.Person) error {
	type signup struct {
		p  *ent.Person
		in bool
	}
	var seatsFor, volsFor []signup
	if resident != nil && resident.CommunityID == a.CommunityID {
		seatsFor = append(seatsFor, signup{p: resident})
	}
	for i, p := range residents {
		seatsFor = append(seatsFor, signup{p: p, in: underWay && i < 3})
	}
	if volunteer != nil && volunteer.CommunityID == a.CommunityID {
		volsFor = append(volsFor, signup{p: volunteer})
	}
	for _, s := range []struct {
		name     string
		kind     slot.Kind
		capacity int
		who      []signup
	}{{"参加名额", slot.KindATTENDEE, 30, seatsFor}, {"现场志愿者", slot.KindVOLUNTEER, 6, volsFor}} {
		taken, checkedIn := 0, 0
		for _, x := range s.who {
			taken++
			if x.in {
				checkedIn++
			}
		}
		sb := c.Slot.Create().SetCommunityID(a.CommunityID).SetActivityID(a.ID).SetName(s.name).SetKind(s.kind).
			SetCapacity(s.capacity).SetMaxSeatsPerSignup(1).SetTaken(taken).SetCheckedIn(checkedIn)
		if s.kind == slot.KindVOLUNTEER {
			// Volunteers come half an hour early to set up.
			sb.SetStartsAt(a.StartsAt.Add(-30 * time.Minute)).SetEndsAt(a.EndsAt)
		}
		sl, err := sb.Save(ctx)
		if err != nil {
			return err
		}
		for seq, x := range s.who {
			code, err := ledger.NewCheckInCode()
			if err != nil {
				return err
			}
			signed := a.StartsAt.Add(-24 * time.Hour)
			rb := c.Registration.Create().SetCommunityID(a.CommunityID).SetSlotID(sl.ID).SetActivityID(a.ID).
				SetPersonID(x.p.ID).SetStatus(registration.StatusCONFIRMED).SetSeats(1).SetQueueSeq(int64(seq + 1)).
				SetCheckInCode(code).SetCreatedAt(signed).SetUpdatedAt(signed)
			if x.in {
				in := a.StartsAt.Add(-10 * time.Minute)
				rb.SetStatus(registration.StatusCHECKED_IN).SetCheckedInAt(in).SetUpdatedAt(in)
			}
			if err := rb.Exec(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}
