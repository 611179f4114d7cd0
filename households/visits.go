package households

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"linli/apperr"
	"linli/audit"
	"linli/authz"
	"linli/cst"
	"linli/ent"
	"linli/ent/homevisit"
	"linli/ent/person"
	"linli/ent/teammembership"
	"linli/events"
	"linli/hours"
	"linli/idem"
	"linli/requests"
	"linli/store"
	"linli/viewer"
)

// VisitInput is what recordHomeVisit is given.
type VisitInput struct {
	HouseholdID  int
	Kind         homevisit.Kind
	VisitedAt    time.Time
	Minutes      int
	TeamID       *int
	VolunteerIDs []int
	RequestID    *int
	Notes        string
	// IdempotencyKey, when set, makes a retry by the same recorder with
	// the same input return the visit already recorded, and the key with
	// other input CONFLICT (idem).
	IdempotencyKey string
}

// ActionRecordVisit is the audit action of recordHomeVisit.
const ActionRecordVisit = "home_visit.record"

// MaxVisitVolunteers bounds the volunteers of one visit.
const MaxVisitVolunteers = 50

// kindLabels name a visit's kind on its volunteers' service records.
var kindLabels = map[homevisit.Kind]string{
	homevisit.KindCARE_VISIT:   "入户慰问",
	homevisit.KindHOME_SERVICE: "上门服务",
	homevisit.KindSURVEY:       "入户调查",
	homevisit.KindERRAND:       "代跑代办",
}

// RecordHomeVisit records a home visit (staff of the household's community,
// or a team leader for a team they lead) and, in the same transaction, one
// service record per volunteer with the visit's minutes (so hours and star
// levels include visits) and, when the visit served a request, a VISIT
// event in the request's history.
func (s *Service) RecordHomeVisit(ctx context.Context, in VisitInput) (*ent.HomeVisit, error) {
	v, err := authz.Require(ctx, (*viewer.Viewer).IsOrganizer, "only coordinators and team leaders record home visits")
	if err != nil {
		return nil, err
	}
	if !v.IsStaff() && !v.Leads(in.TeamID) {
		return nil, &apperr.Error{Code: apperr.Forbidden, Field: "input.teamID", Message: "a team leader records visits for a team they lead"}
	}
	key := strings.TrimSpace(in.IdempotencyKey)
	if err := idem.Validate("input.idempotencyKey", key); err != nil {
		return nil, err
	}
	if v.PersonID == 0 {
		key = "" // keys are a person's own
	}
	hash := visitHash(in)
	if key != "" {
		if hv, err := s.visitByKey(ctx, v, key, hash); hv != nil || err != nil {
			return hv, err
		}
	}
	if err := homevisit.KindValidator(in.Kind); err != nil {
		return nil, apperr.Invalid("input.kind", "unknown kind")
	}
	if in.Minutes < 1 || in.Minutes > hours.MaxVisitMinutes {
		return nil, apperr.Invalid("input.minutes", "minutes must be 1 to %d", hours.MaxVisitMinutes)
	}
	at := in.VisitedAt.UTC().Truncate(time.Second)
	end := at.Add(time.Duration(in.Minutes) * time.Minute)
	if now := time.Now().UTC(); at.After(now.Add(5 * time.Minute)) {
		return nil, apperr.Invalid("input.visitedAt", "visitedAt must not be in the future")
	} else if days := s.backEntryDays(); end.Before(now.AddDate(0, 0, -days)) {
		// Like a paper sign-in sheet: a visit is entered within the
		// back-entry window of its end.
		return nil, &apperr.Error{Code: apperr.BackEntryWindowClosed, Field: "input.visitedAt",
			Message: fmt.Sprintf("a visit is recorded within %d days of it", days)}
	}
	notes, err := text("input.notes", in.Notes, 0, 2000)
	if err != nil {
		return nil, err
	}
	// Read as the viewer: a household, team or request they may not read
	// is one that does not exist for them.
	h, err := s.Client.Household.Get(ctx, in.HouseholdID)
	if ent.IsNotFound(err) {
		return nil, apperr.Invalid("input.householdID", "no such household")
	} else if err != nil {
		return nil, err
	}
	cid := h.CommunityID
	if !v.IsStaffOf(cid) && v.CommunityID != cid {
		return nil, apperr.Invalid("input.householdID", "no such household")
	}
	sys := viewer.System(ctx)
	var team *ent.Team
	if in.TeamID != nil {
		team, err = s.Client.Team.Get(ctx, *in.TeamID)
		if ent.IsNotFound(err) || err == nil && team.CommunityID != cid {
			return nil, apperr.Invalid("input.teamID", "no such team")
		} else if err != nil {
			return nil, err
		}
	}
	volunteers, err := s.visitVolunteers(ctx, v, cid, in.TeamID, in.VolunteerIDs)
	if err != nil {
		return nil, err
	}
	var req *ent.Request
	if in.RequestID != nil {
		req, err = s.Client.Request.Get(ctx, *in.RequestID)
		if ent.IsNotFound(err) || err == nil && req.CommunityID != cid {
			return nil, apperr.Invalid("input.requestID", "no such request")
		} else if err != nil {
			return nil, err
		}
	}
	info, err := s.recordInfo(sys, v, cid, team)
	if err != nil {
		return nil, err
	}

	var hv *ent.HomeVisit
	var served []events.Event
	err = store.Tx(ctx, s.Client, func(tx *ent.Tx) error {
		create := tx.HomeVisit.Create().SetCommunityID(cid).SetHouseholdID(h.ID).SetKind(in.Kind).
			SetVisitedAt(at).SetMinutes(in.Minutes).SetNotes(notes).AddVolunteerIDs(volunteers...).
			SetNillableTeamID(in.TeamID).SetNillableRequestID(in.RequestID)
		if v.PersonID != 0 {
			create.SetRecordedByID(v.PersonID)
		}
		// One volunteer's service time never overlaps: their rows are
		// locked first, so two visits at once are decided one after the other.
		if err := hours.LockVolunteers(sys, tx, volunteers); err != nil {
			return err
		}
		if err := hours.RefuseOverlap(sys, tx, "input.visitedAt", at, end, volunteers...); err != nil {
			return err
		}
		var err error
		if hv, err = create.Save(ctx); err != nil {
			return err
		}
		if key != "" {
			if err := idem.Remember(ctx, tx, opRecordVisit, v.PersonID, key, hash, []byte(strconv.Itoa(hv.ID))); err != nil {
				return err
			}
		}
		if err := s.writeRecords(sys, tx, hv, h, info, volunteers, v.PersonID); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx.Client(), audit.Entry{CommunityID: cid, Action: ActionRecordVisit,
			Subject: fmt.Sprintf("HomeVisit:%d", hv.ID), SubjectID: &hv.ID,
			Detail: fmt.Sprintf("%s %s, %d min, volunteers %v", kindLabels[in.Kind], at.Format(time.RFC3339), in.Minutes, volunteers)}); err != nil {
			return err
		}
		if req != nil {
			// The request's history says it was served (the requests
			// service's one way of writing that entry).
			ev, err := requests.RecordVisit(ctx, tx, req, hv.ID, v.PersonID, truncate(kindLabels[in.Kind]+"："+notes, 5000))
			if err != nil {
				return err
			}
			served = append(served, ev)
		}
		return nil
	})
	if err != nil {
		if ae, ok := apperr.As(err); key != "" && (ent.IsConstraintError(err) || ok && ae.Code == hours.ServiceTimeOverlap) {
			// The same retry committed first (its volunteers' time is
			// taken by the visit itself).
			if hv, kerr := s.visitByKey(ctx, v, key, hash); hv != nil || kerr != nil {
				return hv, kerr
			}
		}
		return nil, err
	}
	if s.Events != nil {
		s.Events.Publish(served...)
	}
	return s.Client.HomeVisit.Get(ctx, hv.ID)
}

// opRecordVisit is recordHomeVisit's idempotency scope.
const opRecordVisit = "recordHomeVisit"

// visitHash identifies a visit's input (as it is recorded: the time to the
// second, the volunteers as a set), so a key reused for another is a
// CONFLICT.
func visitHash(in VisitInput) []byte {
	vols := slices.Clone(in.VolunteerIDs)
	slices.Sort(vols)
	vols = slices.Compact(vols)
	opt := func(p *int) any {
		if p == nil {
			return "none"
		}
		return *p
	}
	return idem.Hash(opRecordVisit, in.HouseholdID, in.Kind, in.VisitedAt.UTC().Truncate(time.Second).Unix(),
		in.Minutes, opt(in.TeamID), vols, opt(in.RequestID), in.Notes)
}

// visitByKey applies the idempotency rule (idem.Check) to v's key: the visit
// recorded under it for a replay, CONFLICT for another visit, nil, nil
// for a new key.
func (s *Service) visitByKey(ctx context.Context, v *viewer.Viewer, key string, hash []byte) (*ent.HomeVisit, error) {
	o, answer, err := idem.Check(ctx, s.Client.IdempotencyKey, "input.idempotencyKey", opRecordVisit, v.PersonID, key, hash)
	if err != nil || o != idem.Replay {
		return nil, err
	}
	id, err := strconv.Atoi(string(answer))
	if err != nil {
		return nil, fmt.Errorf("households: bad stored answer %q", answer)
	}
	return s.Client.HomeVisit.Get(ctx, id)
}

// visitVolunteers checks a visit's volunteers: registered volunteers of
// community cid and, when a team leader who is not staff records the
// visit, members of the team (they answer for their own team's people).
func (s *Service) visitVolunteers(ctx context.Context, v *viewer.Viewer, cid int, teamID *int, ids []int) ([]int, error) {
	var out []int
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	if len(out) > MaxVisitVolunteers {
		return nil, apperr.Invalid("input.volunteerIDs", "at most %d volunteers", MaxVisitVolunteers)
	}
	if len(out) == 0 {
		return nil, nil
	}
	q := s.Client.Person.Query().Where(person.IDIn(out...), person.CommunityID(cid), person.HasVolunteerProfile())
	if !v.IsStaffOf(cid) {
		q.Where(person.HasMembershipsWith(teammembership.TeamID(*teamID)))
	}
	n, err := q.Count(viewer.System(ctx))
	if err != nil {
		return nil, err
	}
	if n != len(out) {
		if v.IsStaffOf(cid) {
			return nil, apperr.Invalid("input.volunteerIDs", "every volunteer must be a registered volunteer of the community")
		}
		return nil, apperr.Invalid("input.volunteerIDs", "every volunteer must be a registered volunteer of the team")
	}
	return out, nil
}

// recordInfo is what a visit's service records name besides the visit: the
// organising team (or the community), the person in charge (the team's
// leader, or the recorder) and who recorded it.
type recordInfo struct{ team, inCharge, recordedBy string }

func (s *Service) recordInfo(sys context.Context, v *viewer.Viewer, cid int, team *ent.Team) (recordInfo, error) {
	var info recordInfo
	if v.PersonID != 0 {
		p, err := s.Client.Person.Get(sys, v.PersonID)
		if err != nil {
			return info, err
		}
		info.recordedBy, info.inCharge = p.DisplayName, p.DisplayName
	}
	if team == nil {
		c, err := s.Client.Community.Get(sys, cid)
		if err != nil {
			return info, err
		}
		info.team = c.Name
		return info, nil
	}
	info.team = team.Name
	lead, err := s.Client.TeamMembership.Query().
		Where(teammembership.TeamID(team.ID), teammembership.RoleEQ(teammembership.RoleLEADER)).
		Order(ent.Asc(teammembership.FieldID)).WithPerson().First(sys)
	if err != nil && !ent.IsNotFound(err) {
		return info, err
	}
	if lead != nil && lead.Edges.Person != nil {
		info.inCharge = lead.Edges.Person.DisplayName
	}
	return info, nil
}

// writeRecords writes one service record per volunteer of hv inside tx, as
// linli (records are written only by linli, after its own checks). The
// record of a recorder who lists himself is flagged until a second staff
// member confirms it (confirmServiceRecord), like a paper sheet's.
func (s *Service) writeRecords(sys context.Context, tx *ent.Tx, hv *ent.HomeVisit, h *ent.Household, info recordInfo, volunteers []int, recorder int) error {
	if len(volunteers) == 0 {
		return nil
	}
	builders := make([]*ent.ServiceRecordCreate, len(volunteers))
	for i, pid := range volunteers {
		builders[i] = VisitRecord(tx.ServiceRecord.Create(), VisitRecordInput{
			CommunityID: hv.CommunityID, PersonID: pid, VisitID: hv.ID, Kind: hv.Kind, VisitedAt: hv.VisitedAt,
			Minutes: hv.Minutes, Place: h.Address, Team: info.team, InCharge: info.inCharge, RecordedBy: info.recordedBy,
		})
		if pid == recorder {
			builders[i].SetFlaggedForReview(true).SetFlagReason(hours.SelfRecordedReason)
		}
	}
	return tx.ServiceRecord.CreateBulk(builders...).Exec(sys)
}

// VisitRecordInput is what a home visit's service record says.
type VisitRecordInput struct {
	CommunityID, PersonID, VisitID int
	Kind                           homevisit.Kind
	VisitedAt                      time.Time
	Minutes                        int
	// Place is the household's address; Team the organising team (or the
	// community); InCharge its leader; RecordedBy who recorded the visit.
	Place, Team, InCharge, RecordedBy string
}

// VisitRecord fills b with a volunteer's service record of a home visit:
// the fields of an activity's record (see checkin), with the visit's kind
// as what was done, its minutes served from visitedAt, and home_visit_id.
// recordHomeVisit and the demo data both make visit records through it.
func VisitRecord(b *ent.ServiceRecordCreate, in VisitRecordInput) *ent.ServiceRecordCreate {
	label := kindLabels[in.Kind]
	return b.SetCommunityID(in.CommunityID).SetPersonID(in.PersonID).SetHomeVisitID(in.VisitID).
		SetActivityName(label).SetServiceDate(cst.Date(in.VisitedAt)).
		SetPlace(truncate(in.Place, 300)).SetServiceContent(fmt.Sprintf("%s（%d 分钟）", label, in.Minutes)).
		SetStartedAt(in.VisitedAt).SetEndedAt(in.VisitedAt.Add(time.Duration(in.Minutes) * time.Minute)).SetMinutes(in.Minutes).
		SetOrganizingTeam(truncate(in.Team, 100)).SetPersonInCharge(truncate(in.InCharge, 100)).
		SetRecordedBy(truncate(in.RecordedBy, 100))
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
