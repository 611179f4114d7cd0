package main

import (
	"context"
	"database/sql"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"
)

// answer is CommunityStatistics as JSON; the raw side fills the same shape.
type answer struct {
	Community                                                                           struct{ ID string }
	ActivitiesHeld, ParticipantPersonTimes, AttendeePersonTimes, VolunteerPersonTimes   int
	BeneficiaryPersonTimes                                                              int
	ServiceHours                                                                        float64
	RegisteredVolunteers, ResidentPopulation                                            int
	VolunteerShare                                                                      float64
	RequestsReceived, RequestsResolved, DisputesMediated, HomeVisits, HouseholdsVisited int
	ResponseRate, ResolutionRate, SatisfactionRate                                      float64
	ByCategory                                                                          []catRow   `json:",omitempty"`
	ByServiceType                                                                       []typeRow  `json:",omitempty"`
	ByTeam                                                                              []teamRow  `json:",omitempty"`
	ByMonth                                                                             []monthRow `json:",omitempty"`
}

type catRow struct {
	Category                               string
	ActivitiesHeld, ParticipantPersonTimes int
}

type typeRow struct {
	ServiceType                            string
	ActivitiesHeld, ParticipantPersonTimes int
}

type teamRow struct {
	Team                                 struct{ ID string }
	ActivitiesHeld, VolunteerPersonTimes int
	ServiceHours                         float64
	HomeVisits                           int
}

type monthRow struct {
	Month                                                    string
	ActivitiesHeld, ParticipantPersonTimes, RequestsReceived int
}

const scalarFields = `community { id } activitiesHeld participantPersonTimes attendeePersonTimes volunteerPersonTimes
	beneficiaryPersonTimes serviceHours registeredVolunteers residentPopulation volunteerShare
	requestsReceived requestsResolved disputesMediated homeVisits householdsVisited
	responseRate resolutionRate satisfactionRate`

const breakdownFields = `byCategory { category activitiesHeld participantPersonTimes }
	byServiceType { serviceType activitiesHeld participantPersonTimes }
	byTeam { team { id } activitiesHeld volunteerPersonTimes serviceHours homeVisits }
	byMonth { month activitiesHeld participantPersonTimes requestsReceived }`

// counts are one community's raw counts on the raw side.
type counts struct {
	held, attendees, volunteers, minutes, volunteersReg, population, received, responded, resolved, forSomeone,
	disputes, visits, visitedPeople, households, rated, satisfied int
	cats   map[string]*[2]int
	types  map[string]*[2]int
	months map[string]*[3]int
	teams  map[int]*[4]int // held, volunteer check-ins, minutes, visits
}

// The raw side's statements: the figures computed by hand-written SQL
// straight on PostgreSQL, for the communities in $1 and the range [$2, $3)
// ($4: now, for "not in the future").
const (
	rawHeld = `SELECT community_id, category, service_type, COALESCE(team_id, 0), to_char(starts_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'), count(*)
		FROM activities WHERE community_id = ANY($1) AND status IN ('PUBLISHED','COMPLETED') AND starts_at >= $2 AND starts_at < LEAST($3::timestamptz, $4::timestamptz)
		GROUP BY 1, 2, 3, 4, 5`
	rawCheckIns = `SELECT a.community_id, a.category, a.service_type, COALESCE(a.team_id, 0), to_char(a.starts_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'), s.kind, count(*)
		FROM registrations r JOIN activities a ON a.id = r.activity_id JOIN slots s ON s.id = r.slot_id
		WHERE a.community_id = ANY($1) AND r.status IN ('CHECKED_IN','CHECKED_OUT') AND a.status IN ('PUBLISHED','COMPLETED') AND a.starts_at >= $2 AND a.starts_at < LEAST($3::timestamptz, $4::timestamptz)
		GROUP BY 1, 2, 3, 4, 5, 6`
	rawMinutes = `SELECT sr.community_id, COALESCE(a.team_id, 0), sum(sr.minutes) FROM service_records sr LEFT JOIN activities a ON a.id = sr.activity_id
		WHERE sr.community_id = ANY($1) AND sr.started_at >= $2 AND sr.started_at < $3 GROUP BY 1, 2`
	rawVisits = `SELECT v.community_id, COALESCE(v.team_id, 0), count(*), sum(h.size) FROM home_visits v JOIN households h ON h.id = v.household_id
		WHERE v.community_id = ANY($1) AND v.visited_at >= $2 AND v.visited_at < $3 GROUP BY 1, 2`
	rawHouseholds = `SELECT community_id, count(DISTINCT household_id) FROM home_visits
		WHERE community_id = ANY($1) AND visited_at >= $2 AND visited_at < $3 GROUP BY 1`
	rawReceived = `SELECT community_id, to_char(created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'), count(*),
		count(*) FILTER (WHERE accepted_at <= created_at + interval '24 hours')
		FROM requests WHERE community_id = ANY($1) AND created_at >= $2 AND created_at < $3 GROUP BY 1, 2`
	rawResolved = `SELECT community_id, count(*), count(*) FILTER (WHERE outcome IN ('SOLVED','MEDIATED')),
		count(*) FILTER (WHERE kind = 'DISPUTE' AND outcome = 'MEDIATED')
		FROM requests WHERE community_id = ANY($1) AND resolved_at >= $2 AND resolved_at < $3
		AND status IN ('RESOLVED','CLOSED') AND outcome IN ('SOLVED','MEDIATED','REFERRED','EXPLAINED') GROUP BY 1`
	rawRated = `SELECT community_id, count(*), count(*) FILTER (WHERE satisfaction >= 4) FROM requests
		WHERE community_id = ANY($1) AND status = 'CLOSED' AND closed_at >= $2 AND closed_at < $3 AND satisfaction IS NOT NULL GROUP BY 1`
	rawVolunteers = `SELECT p.community_id, count(*) FROM persons p JOIN volunteer_profiles vp ON vp.person_id = p.id
		WHERE p.community_id = ANY($1) AND p.roles @> '["VOLUNTEER"]' AND vp.registered_at < $3 AND $2::timestamptz IS NOT NULL GROUP BY 1`
	rawPopulation = `SELECT id, resident_population FROM communities WHERE id = ANY($1) AND $2::timestamptz IS NOT NULL AND $3::timestamptz IS NOT NULL`
)

// raw computes the figures of communities cids (breakdowns too when
// breakdowns is set) with the statements above; encode turns a row ID into
// the API's ID.
func raw(ctx context.Context, db *sql.DB, cids []int, from, to, now time.Time, breakdowns bool, encode func(int) string) ([]answer, error) {
	arr := pq.Array(cids)
	by := map[int]*counts{}
	get := func(cid int) *counts {
		c := by[cid]
		if c == nil {
			c = &counts{cats: map[string]*[2]int{}, types: map[string]*[2]int{}, months: map[string]*[3]int{}, teams: map[int]*[4]int{}}
			by[cid] = c
		}
		return c
	}
	each := func(q string, withNow bool, scan func(*sql.Rows) error) error {
		args := []any{arr, from, to}
		if withNow {
			args = append(args, now)
		}
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	bump2 := func(m map[string]*[2]int, k string, i, n int) {
		if m[k] == nil {
			m[k] = &[2]int{}
		}
		m[k][i] += n
	}
	bumpMonth := func(m map[string]*[3]int, k string, i, n int) {
		if m[k] == nil {
			m[k] = &[3]int{}
		}
		m[k][i] += n
	}
	bumpTeam := func(m map[int]*[4]int, k, i, n int) {
		if k == 0 {
			return
		}
		if m[k] == nil {
			m[k] = &[4]int{}
		}
		m[k][i] += n
	}
	var cid, team, n, m int
	var cat, typ, month, kind string
	err := each(rawPopulation, false, func(r *sql.Rows) error {
		if err := r.Scan(&cid, &n); err != nil {
			return err
		}
		get(cid).population = n
		return nil
	})
	if err == nil {
		err = each(rawHeld, true, func(r *sql.Rows) error {
			if err := r.Scan(&cid, &cat, &typ, &team, &month, &n); err != nil {
				return err
			}
			c := get(cid)
			c.held += n
			bump2(c.cats, cat, 0, n)
			bump2(c.types, typ, 0, n)
			bumpMonth(c.months, month, 0, n)
			bumpTeam(c.teams, team, 0, n)
			return nil
		})
	}
	if err == nil {
		err = each(rawCheckIns, true, func(r *sql.Rows) error {
			if err := r.Scan(&cid, &cat, &typ, &team, &month, &kind, &n); err != nil {
				return err
			}
			c := get(cid)
			if kind == "VOLUNTEER" {
				c.volunteers += n
				bumpTeam(c.teams, team, 1, n)
			} else {
				c.attendees += n
			}
			bump2(c.cats, cat, 1, n)
			bump2(c.types, typ, 1, n)
			bumpMonth(c.months, month, 1, n)
			return nil
		})
	}
	if err == nil {
		err = each(rawMinutes, false, func(r *sql.Rows) error {
			if err := r.Scan(&cid, &team, &n); err != nil {
				return err
			}
			c := get(cid)
			c.minutes += n
			bumpTeam(c.teams, team, 2, n)
			return nil
		})
	}
	if err == nil {
		err = each(rawVisits, false, func(r *sql.Rows) error {
			if err := r.Scan(&cid, &team, &n, &m); err != nil {
				return err
			}
			c := get(cid)
			c.visits += n
			c.visitedPeople += m
			bumpTeam(c.teams, team, 3, n)
			return nil
		})
	}
	if err == nil {
		err = each(rawHouseholds, false, func(r *sql.Rows) error {
			if err := r.Scan(&cid, &n); err != nil {
				return err
			}
			get(cid).households = n
			return nil
		})
	}
	if err == nil {
		err = each(rawReceived, false, func(r *sql.Rows) error {
			if err := r.Scan(&cid, &month, &n, &m); err != nil {
				return err
			}
			c := get(cid)
			c.received += n
			c.responded += m
			bumpMonth(c.months, month, 2, n)
			return nil
		})
	}
	if err == nil {
		var k int
		err = each(rawResolved, false, func(r *sql.Rows) error {
			if err := r.Scan(&cid, &n, &m, &k); err != nil {
				return err
			}
			c := get(cid)
			c.resolved, c.forSomeone, c.disputes = n, m, k
			return nil
		})
	}
	if err == nil {
		err = each(rawRated, false, func(r *sql.Rows) error {
			if err := r.Scan(&cid, &n, &m); err != nil {
				return err
			}
			c := get(cid)
			c.rated, c.satisfied = n, m
			return nil
		})
	}
	if err == nil {
		err = each(rawVolunteers, false, func(r *sql.Rows) error {
			if err := r.Scan(&cid, &n); err != nil {
				return err
			}
			get(cid).volunteersReg = n
			return nil
		})
	}
	if err != nil {
		return nil, err
	}
	out := make([]answer, 0, len(cids))
	sorted := slices.Clone(cids)
	slices.Sort(sorted)
	for _, id := range sorted {
		c := get(id)
		a := answer{ActivitiesHeld: c.held, AttendeePersonTimes: c.attendees, VolunteerPersonTimes: c.volunteers,
			ParticipantPersonTimes: c.attendees + c.volunteers, BeneficiaryPersonTimes: c.attendees + c.visitedPeople + c.forSomeone,
			ServiceHours: hours(c.minutes), RegisteredVolunteers: c.volunteersReg, ResidentPopulation: c.population,
			VolunteerShare: ratio(c.volunteersReg, c.population), RequestsReceived: c.received, RequestsResolved: c.resolved,
			DisputesMediated: c.disputes, HomeVisits: c.visits, HouseholdsVisited: c.households,
			ResponseRate: ratio(c.responded, c.received), ResolutionRate: ratio(c.resolved, c.received), SatisfactionRate: ratio(c.satisfied, c.rated)}
		a.Community.ID = encode(id)
		if breakdowns {
			for _, k := range []string{"SQUARE", "HALL", "FAMILY", "SCHOOL", "ONLINE"} {
				v := c.cats[k]
				if v == nil {
					v = &[2]int{}
				}
				a.ByCategory = append(a.ByCategory, catRow{k, v[0], v[1]})
			}
			for _, k := range []string{"APPEALS", "POVERTY_RELIEF", "CULTURE", "COUNSELING", "LEGAL", "HEALTH", "EDUCATION", "EMPLOYMENT"} {
				v := c.types[k]
				if v == nil {
					v = &[2]int{}
				}
				a.ByServiceType = append(a.ByServiceType, typeRow{k, v[0], v[1]})
			}
			for id, v := range c.teams {
				t := teamRow{ActivitiesHeld: v[0], VolunteerPersonTimes: v[1], ServiceHours: hours(v[2]), HomeVisits: v[3]}
				t.Team.ID = encode(id)
				a.ByTeam = append(a.ByTeam, t)
			}
			sortTeams(a.ByTeam)
			cst := time.FixedZone("CST", 8*3600)
			f := from.In(cst)
			for mo := time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, cst); mo.Before(to); mo = mo.AddDate(0, 1, 0) {
				k := mo.Format("2006-01")
				v := c.months[k]
				if v == nil {
					v = &[3]int{}
				}
				a.ByMonth = append(a.ByMonth, monthRow{k, v[0], v[1], v[2]})
			}
		}
		out = append(out, a)
	}
	return out, nil
}

func sortTeams(ts []teamRow) {
	slices.SortFunc(ts, func(a, b teamRow) int { return strings.Compare(a.Team.ID, b.Team.ID) })
}

func hours(minutes int) float64 { return math.Round(float64(minutes)/60*100) / 100 }

func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return math.Round(float64(n)/float64(d)*10000) / 10000
}
