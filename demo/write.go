package demo

import (
	"context"
	"fmt"
	"sync"
	"time"

	"linli/auth"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/teammembership"
)

// batch bounds the rows of one INSERT, well under the bind-parameter limits
// of SQLite and PostgreSQL.
const batch = 200

// hashPasswords hashes the demo accounts' passwords, in parallel because
// argon2id is deliberately slow and dominates the load time otherwise.
func hashPasswords(plan []*communityPlan) (map[string]string, error) {
	type job struct{ phone, password string }
	var jobs []job
	for _, c := range plan {
		for _, p := range c.people {
			if p.password != "" {
				jobs = append(jobs, job{p.phone, p.password})
			}
		}
	}
	hashes := make([]string, len(jobs))
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() { hashes[i], errs[i] = auth.HashPassword(j.password) })
	}
	wg.Wait()
	out := make(map[string]string, len(jobs))
	for i, j := range jobs {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out[j.phone] = hashes[i]
	}
	return out, nil
}

// write inserts the plan through client (a transaction's client) with a
// handful of bulk statements per table.
func write(ctx context.Context, client *ent.Client, plan []*communityPlan, hashes map[string]string) error {
	loaded := time.Now().UTC()
	communities, err := client.Community.MapCreateBulk(plan, func(b *ent.CommunityCreate, i int) {
		c := plan[i]
		b.SetName(c.name).SetTown(c.town).SetCity(c.city).SetHouseholds(c.households).
			SetAreaKm2(c.areaKm2).SetStarThresholds(c.thresholds)
	}).Save(ctx)
	if err != nil {
		return fmt.Errorf("communities: %w", err)
	}

	var venues []*ent.VenueCreate
	var teams []*ent.TeamCreate
	var people []*ent.PersonCreate
	for ci, c := range plan {
		cid := communities[ci].ID
		for _, v := range c.venues {
			venues = append(venues, client.Venue.Create().SetCommunityID(cid).SetName(v.name).SetAddress(v.address).SetCapacity(v.capacity))
		}
		for _, t := range c.teams {
			teams = append(teams, client.Team.Create().SetCommunityID(cid).SetName(t.name).SetDescription(t.description))
		}
		for _, p := range c.people {
			hash, ok := hashes[p.phone]
			if !ok {
				hash = auth.NoPassword
			}
			roles := make([]string, len(p.roles))
			for i, r := range p.roles {
				roles[i] = string(r)
			}
			people = append(people, client.Person.Create().SetCommunityID(cid).SetDisplayName(p.name).
				SetPhone(p.phone).SetPasswordHash(hash).SetRoles(roles))
		}
	}
	venueRows, err := insertRows(ctx, venues, func(b []*ent.VenueCreate) ([]*ent.Venue, error) { return client.Venue.CreateBulk(b...).Save(ctx) })
	if err != nil {
		return fmt.Errorf("venues: %w", err)
	}
	teamRows, err := insertRows(ctx, teams, func(b []*ent.TeamCreate) ([]*ent.Team, error) { return client.Team.CreateBulk(b...).Save(ctx) })
	if err != nil {
		return fmt.Errorf("teams: %w", err)
	}
	venueIDs, teamIDs := idsOf(venueRows, func(e *ent.Venue) int { return e.ID }), idsOf(teamRows, func(e *ent.Team) int { return e.ID })
	personIDs, err := insert(ctx, people, func(b []*ent.PersonCreate) ([]*ent.Person, error) { return client.Person.CreateBulk(b...).Save(ctx) }, func(e *ent.Person) int { return e.ID })
	if err != nil {
		return fmt.Errorf("people: %w", err)
	}

	// Rows created above come back in plan order; walk the plan again to
	// turn per-community indexes into IDs.
	var profiles []*ent.VolunteerProfileCreate
	var members []*ent.TeamMembershipCreate
	var activities []*ent.ActivityCreate
	vOff, tOff, pOff := 0, 0, 0
	for ci, c := range plan {
		cid := communities[ci].ID
		for i, p := range c.people {
			pid := personIDs[pOff+i]
			if p.volunteer() {
				b := client.VolunteerProfile.Create().SetCommunityID(cid).SetPersonID(pid).SetSkills(p.skills)
				if !p.registeredAt.IsZero() {
					b.SetRegisteredAt(p.registeredAt)
				}
				profiles = append(profiles, b)
			}
			for _, m := range p.teams {
				role := teammembership.RoleMEMBER
				if m.leader {
					role = teammembership.RoleLEADER
				}
				members = append(members, client.TeamMembership.Create().SetCommunityID(cid).
					SetTeamID(teamIDs[tOff+m.team]).SetPersonID(pid).SetRole(role))
			}
		}
		for _, a := range c.activities {
			b := client.Activity.Create().SetCommunityID(cid).SetTitle(a.title).SetDescription(a.description).
				SetCategory(a.category).SetServiceType(a.serviceType).SetStatus(a.status).
				SetStartsAt(a.startsAt).SetEndsAt(a.endsAt).
				SetSignupOpensAt(a.opensAt).SetSignupClosesAt(a.closesAt)
			if a.status != activity.StatusDRAFT {
				// Every demo activity but the drafts was published (the
				// cancelled show told residents it is off), a day before its
				// sign-up opened or, for those opening later, when loaded.
				b.SetPublishedAt(earlier(a.opensAt.Add(-24*time.Hour), loaded))
			}
			if a.team >= 0 {
				b.SetTeamID(teamIDs[tOff+a.team])
			}
			if a.venue >= 0 {
				b.SetVenueID(venueIDs[vOff+a.venue])
			}
			activities = append(activities, b)
		}
		vOff, tOff, pOff = vOff+len(c.venues), tOff+len(c.teams), pOff+len(c.people)
	}
	if _, err := insert(ctx, profiles, func(b []*ent.VolunteerProfileCreate) ([]*ent.VolunteerProfile, error) {
		return client.VolunteerProfile.CreateBulk(b...).Save(ctx)
	}, func(e *ent.VolunteerProfile) int { return e.ID }); err != nil {
		return fmt.Errorf("volunteer profiles: %w", err)
	}
	if _, err := insert(ctx, members, func(b []*ent.TeamMembershipCreate) ([]*ent.TeamMembership, error) {
		return client.TeamMembership.CreateBulk(b...).Save(ctx)
	}, func(e *ent.TeamMembership) int { return e.ID }); err != nil {
		return fmt.Errorf("team memberships: %w", err)
	}
	activityRows, err := insertRows(ctx, activities, func(b []*ent.ActivityCreate) ([]*ent.Activity, error) {
		return client.Activity.CreateBulk(b...).Save(ctx)
	})
	if err != nil {
		return fmt.Errorf("activities: %w", err)
	}
	activityIDs := idsOf(activityRows, func(e *ent.Activity) int { return e.ID })

	// Counters: taken and checked in are those of the past activities'
	// registrations (attendance.go); waitlisted and pending stay 0, as
	// nobody is left waiting once an activity is over.
	var slots []*ent.SlotCreate
	aOff := 0
	for ci, c := range plan {
		cid := communities[ci].ID
		for i, a := range c.activities {
			for si, s := range a.slots {
				b := client.Slot.Create().SetCommunityID(cid).SetActivityID(activityIDs[aOff+i]).
					SetName(s.name).SetKind(s.kind).SetCapacity(s.capacity).
					SetRequiresApproval(s.approval).SetMaxSeatsPerSignup(max(s.maxSeats, 1))
				if s.earlyMinutes > 0 {
					b.SetStartsAt(a.startsAt.Add(-time.Duration(s.earlyMinutes) * time.Minute)).SetEndsAt(a.endsAt)
				}
				if a.slotCounts != nil {
					b.SetTaken(a.slotCounts[si].taken).SetCheckedIn(a.slotCounts[si].checkedIn)
				}
				slots = append(slots, b)
			}
		}
		aOff += len(c.activities)
	}
	slotRows, err := insertRows(ctx, slots, func(b []*ent.SlotCreate) ([]*ent.Slot, error) { return client.Slot.CreateBulk(b...).Save(ctx) })
	if err != nil {
		return fmt.Errorf("slots: %w", err)
	}
	if err := writeHomes(ctx, client, plan, communities, teamIDs, personIDs); err != nil {
		return err
	}
	return writeAttendance(ctx, client, plan, rows{communities: communities, venues: venueRows, teams: teamRows,
		personIDs: personIDs, activities: activityRows, slots: slotRows})
}

// insert saves builders in batches and returns the new IDs in order.
func insert[B any, E any](ctx context.Context, builders []B, save func([]B) ([]E, error), id func(E) int) ([]int, error) {
	rows, err := insertRows(ctx, builders, save)
	if err != nil {
		return nil, err
	}
	return idsOf(rows, id), nil
}

// insertRows saves builders in batches and returns the new rows in order.
func insertRows[B any, E any](ctx context.Context, builders []B, save func([]B) ([]E, error)) ([]E, error) {
	out := make([]E, 0, len(builders))
	for lo := 0; lo < len(builders); lo += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rows, err := save(builders[lo:min(lo+batch, len(builders))])
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

func idsOf[E any](rows []E, id func(E) int) []int {
	ids := make([]int, len(rows))
	for i, r := range rows {
		ids[i] = id(r)
	}
	return ids
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
