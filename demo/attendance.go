package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"linli/ent"
	"linli/ent/activity"
	"linli/ent/registration"
	"linli/ent/slot"
	"linli/ledger"
	"linli/scan"
	"linli/viewer"
)

// The past activities' sign-ups and check-ins: audiences in the seats (the
// square shows draw the biggest), volunteers in their positions, checked in
// at the door and, volunteers, out again, so that each volunteer's service
// is a record made by the check-out rule (scan.NewRecord). A few who signed
// up never came (their registrations stay CONFIRMED, as the door leaves
// them) and a few cancelled beforehand. The slots' counters are those of
// the registrations: taken the seats of CONFIRMED, CHECKED_IN and
// CHECKED_OUT ones, checked_in those of CHECKED_IN and CHECKED_OUT.

type regPlan struct {
	person int // index into communityPlan.people
	seats  int
	status registration.Status
	signed time.Time // when they signed up
	in     time.Time // zero: never checked in
	out    time.Time // zero: never checked out
}

// Shares of sign-ups, in percent, that were not honoured.
const (
	noShowPercent    = 7
	cancelledPercent = 3
)

// planAttendance fills every completed activity of c with the sign-ups and
// check-ins it had, from its own random source (the rest of the plan stays
// as it was) and counts them into the slots' counters.
func planAttendance(c *communityPlan, salt uint64) {
	rng := rand.New(rand.NewPCG(seed^salt, seed+salt))
	var everyone, volunteersAll []int
	members := make([][]int, len(c.teams))
	for i, p := range c.people {
		if p.password != "" && !p.volunteer() && len(p.roles) > 1 {
			continue // staff and admins do not fill seats
		}
		everyone = append(everyone, i)
		if p.volunteer() {
			volunteersAll = append(volunteersAll, i)
		}
		for _, m := range p.teams {
			members[m.team] = append(members[m.team], i)
		}
	}
	for ai := range c.activities {
		a := &c.activities[ai]
		if a.status != activity.StatusCOMPLETED {
			continue
		}
		a.attendance = make([][]regPlan, len(a.slots))
		a.slotCounts = make([]slotCounts, len(a.slots))
		used := map[int]bool{}
		for si, s := range a.slots {
			from, to := a.startsAt, a.endsAt
			if s.earlyMinutes > 0 {
				from = a.startsAt.Add(-time.Duration(s.earlyMinutes) * time.Minute)
			}
			pool := everyone
			fill := 55 + rng.IntN(41) // percent of the seats taken
			if s.kind == slot.KindVOLUNTEER {
				pool = volunteersAll
				if a.team >= 0 {
					pool = members[a.team]
				}
				fill = 80 + rng.IntN(21)
			}
			want := max(1, s.capacity*fill/100)
			taken := 0
			for _, pi := range rng.Perm(len(pool)) {
				if taken >= want {
					break
				}
				p := pool[pi]
				if used[p] {
					continue
				}
				n := 1
				if s.maxSeats > 1 && rng.IntN(10) >= 7 {
					n = 2 + rng.IntN(s.maxSeats-1)
				}
				n = min(n, want-taken)
				used[p] = true
				r := regPlan{person: p, seats: n, status: registration.StatusCONFIRMED,
					signed: a.opensAt.Add(time.Duration(rng.Int64N(int64(a.closesAt.Sub(a.opensAt)))))}
				switch roll := rng.IntN(100); {
				case roll < cancelledPercent:
					r.status = registration.StatusCANCELLED
				case roll < cancelledPercent+noShowPercent:
					// Signed up, never came.
				case s.kind == slot.KindVOLUNTEER:
					r.status = registration.StatusCHECKED_OUT
					r.in = from.Add(-time.Duration(rng.IntN(11)) * time.Minute)
					r.out = to.Add(time.Duration(rng.IntN(16)) * time.Minute)
					if rng.IntN(10) == 0 { // left early
						r.out = to.Add(-time.Duration(15+rng.IntN(31)) * time.Minute)
					}
				default:
					r.status = registration.StatusCHECKED_IN
					r.in = from.Add(time.Duration(rng.IntN(46)-25) * time.Minute)
				}
				if r.status != registration.StatusCANCELLED {
					taken += n
				}
				a.attendance[si] = append(a.attendance[si], r)
			}
			a.slotCounts[si] = countSlot(a.attendance[si])
		}
	}
}

type slotCounts struct{ taken, checkedIn int }

// countSlot is what the ledger counts for a slot's registrations.
func countSlot(regs []regPlan) slotCounts {
	var n slotCounts
	for _, r := range regs {
		switch r.status {
		case registration.StatusCONFIRMED:
			n.taken += r.seats
		case registration.StatusCHECKED_IN, registration.StatusCHECKED_OUT:
			n.taken += r.seats
			n.checkedIn += r.seats
		}
	}
	return n
}

// rows are what write inserted, in plan order, for writeAttendance.
type rows struct {
	communities []*ent.Community
	venues      []*ent.Venue
	teams       []*ent.Team
	personIDs   []int
	activities  []*ent.Activity
	slots       []*ent.Slot
}

// writeAttendance inserts the planned registrations of every community and
// the service records of the volunteers who checked out, as recorded by the
// community's coordinator at the door.
func writeAttendance(ctx context.Context, client *ent.Client, plan []*communityPlan, r rows) error {
	type served struct {
		reg    int // index into regs
		info   *scan.RecordInfo
		a      *ent.Activity
		s      *ent.Slot
		person int
		in     time.Time
		out    time.Time
	}
	var regs []*ent.RegistrationCreate
	var toRecord []served
	vOff, tOff, pOff, aOff, sOff := 0, 0, 0, 0, 0
	for ci, c := range plan {
		cid := r.communities[ci].ID
		recorder, leaders := "", make([]string, len(c.teams))
		for _, p := range c.people {
			if recorder == "" && hasRole(p, viewer.Coordinator) {
				recorder = p.name
			}
			for _, m := range p.teams {
				if m.leader && leaders[m.team] == "" {
					leaders[m.team] = p.name
				}
			}
		}
		for ai, a := range c.activities {
			act := r.activities[aOff+ai]
			for si := range a.slots {
				sl := r.slots[sOff+si]
				var info *scan.RecordInfo
				for seq, rp := range a.attendanceOf(si) {
					code, err := ledger.NewCheckInCode()
					if err != nil {
						return err
					}
					pid := r.personIDs[pOff+rp.person]
					b := client.Registration.Create().SetCommunityID(cid).SetSlotID(sl.ID).SetActivityID(act.ID).
						SetPersonID(pid).SetStatus(rp.status).SetSeats(rp.seats).SetQueueSeq(int64(seq + 1)).
						SetCheckInCode(code).SetCreatedAt(rp.signed).SetUpdatedAt(latest(rp.signed, rp.in, rp.out))
					if !rp.in.IsZero() {
						b.SetCheckedInAt(rp.in)
					}
					if !rp.out.IsZero() {
						b.SetCheckedOutAt(rp.out)
					}
					if rp.status == registration.StatusCANCELLED {
						// Halfway between signing up and sign-up closing.
						at := rp.signed.Add(a.closesAt.Sub(rp.signed) / 2)
						b.SetCancelledAt(at).SetUpdatedAt(at)
					}
					if rp.status == registration.StatusCHECKED_OUT && sl.Kind == slot.KindVOLUNTEER {
						if info == nil {
							var v *ent.Venue
							var tm *ent.Team
							leader := ""
							if a.venue >= 0 {
								v = r.venues[vOff+a.venue]
							}
							if a.team >= 0 {
								tm, leader = r.teams[tOff+a.team], leaders[a.team]
							}
							info = scan.NewRecordInfo(act, sl, v, tm, r.communities[ci], leader, recorder)
						}
						toRecord = append(toRecord, served{reg: len(regs), info: info, a: act, s: sl, person: pid, in: rp.in, out: rp.out})
					}
					regs = append(regs, b)
				}
			}
			sOff += len(a.slots)
		}
		vOff, tOff, pOff, aOff = vOff+len(c.venues), tOff+len(c.teams), pOff+len(c.people), aOff+len(c.activities)
	}
	regIDs, err := insert(ctx, regs, func(b []*ent.RegistrationCreate) ([]*ent.Registration, error) {
		return client.Registration.CreateBulk(b...).Save(ctx)
	}, func(e *ent.Registration) int { return e.ID })
	if err != nil {
		return fmt.Errorf("registrations: %w", err)
	}
	records := make([]*ent.ServiceRecordCreate, len(toRecord))
	for i, s := range toRecord {
		records[i], _ = scan.NewRecord(client.ServiceRecord.Create().SetCreatedAt(s.out).SetUpdatedAt(s.out),
			s.info, s.a, s.s, scan.DefaultCheckOutGrace, regIDs[s.reg], s.person, s.in, s.out)
	}
	if _, err := insert(ctx, records, func(b []*ent.ServiceRecordCreate) ([]*ent.ServiceRecord, error) {
		return client.ServiceRecord.CreateBulk(b...).Save(ctx)
	}, func(e *ent.ServiceRecord) int { return e.ID }); err != nil {
		return fmt.Errorf("activity service records: %w", err)
	}
	return nil
}

func (a *activityPlan) attendanceOf(slot int) []regPlan {
	if a.attendance == nil {
		return nil
	}
	return a.attendance[slot]
}

func hasRole(p personPlan, r viewer.Role) bool {
	for _, x := range p.roles {
		if x == r {
			return true
		}
	}
	return false
}

func latest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}
