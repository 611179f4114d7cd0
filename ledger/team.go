package ledger

// Team sign-up: a team leader signs several members of their team up for a
// volunteer position at once, each a registration of their own, all or
// nothing: one op in the batch, decided with every member's standing, so
// if the seats do not fit or any member may not take the position, nobody
// is booked and the refusal names who and why.

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"linli/apperr"
	"linli/authz"
	"linli/ent"
	"linli/ent/registration"
	"linli/ent/slot"
	"linli/ent/team"
	"linli/ent/teammembership"
	"linli/idem"
	"linli/store"
	"linli/viewer"
)

// MaxTeamSignUp bounds the members of one team sign-up.
const MaxTeamSignUp = 50

// opSignUpTeam is the idempotency scope of SignUpTeam.
const opSignUpTeam = "signUpTeam"

// TeamSignUpInput is a leader's request for members of their team.
type TeamSignUpInput struct {
	SlotID, TeamID int
	PersonIDs      []int
	// IdempotencyKey (optional) makes a retry safe (package idem).
	IdempotencyKey string
}

// TeamMember is what a team sign-up (or removal) did for one member.
type TeamMember struct {
	PersonID, RegistrationID int
	Status                   registration.Status
}

// member is a team member as the op decides about them.
type member struct {
	id   int
	name string
	v    *viewer.Viewer // the member, for the eligibility rule
	code string
}

type teamOp struct {
	leader     *viewer.Viewer
	in         TeamSignUpInput
	activityID int
	members    []member
	hash       []byte
	cancel     bool // removal instead of sign-up
	reason     string

	regs []*NewRegistration
	out  []TeamMember
}

func (o *teamOp) ActivityID() int { return o.activityID }

func (o *teamOp) people() []int {
	ids := make([]int, len(o.members))
	for i, m := range o.members {
		ids[i] = m.id
	}
	return ids
}

// SignUpTeam signs the members up (CONFIRMED, or PENDING_APPROVAL for
// those whose sign-up waits for approval: the slot asks for it, or their
// no-shows pass its limit), all or nothing: a team sign-up never joins
// the waitlist.
func (l *Ledger) SignUpTeam(ctx context.Context, in TeamSignUpInput) ([]TeamMember, error) {
	o, err := l.teamOp(ctx, in, false)
	if err != nil || o == nil {
		return l.teamReplay(ctx, in, err)
	}
	err = l.Submit(ctx, o)
	if store.IsUniqueViolation(err) {
		// A concurrent retry with the same key won, or a member signed up
		// at the same moment.
		if in.IdempotencyKey != "" {
			return l.teamReplay(ctx, in, nil)
		}
		err = apperr.New(apperr.AlreadyRegistered, "a member was just signed up for this slot; nobody was signed up")
	}
	if err != nil {
		return nil, err
	}
	for i, r := range o.regs {
		o.out[i].RegistrationID, o.out[i].Status = r.Registration.ID, r.Status
	}
	return o.out, nil
}

// RemoveTeamSignUps cancels the members' registrations in the slot (those
// they have; attended ones refuse the whole removal). The seats go to the
// head of the waitlist in the same transaction.
func (l *Ledger) RemoveTeamSignUps(ctx context.Context, in TeamSignUpInput, reason string) ([]TeamMember, error) {
	if err := validReason(reason); err != nil {
		return nil, err
	}
	in.IdempotencyKey = ""
	o, err := l.teamOp(ctx, in, true)
	if err != nil {
		return nil, err
	}
	o.reason = reason
	if err := l.Submit(ctx, o); err != nil {
		return nil, err
	}
	return o.out, nil
}

// teamOp checks what can be checked before the lock: the caller leads the
// team, the people are its members; a key already answered returns nil.
func (l *Ledger) teamOp(ctx context.Context, in TeamSignUpInput, cancel bool) (*teamOp, error) {
	v := viewer.FromContext(ctx)
	if err := authz.SignUpCaller(v); err != nil {
		return nil, err
	}
	if err := idem.Validate("idempotencyKey", in.IdempotencyKey); err != nil {
		return nil, err
	}
	ids := slices.Sorted(slices.Values(in.PersonIDs))
	if len(ids) < 1 || len(ids) > MaxTeamSignUp {
		return nil, apperr.Invalid("personIDs", "a team sign-up names 1 to %d members", MaxTeamSignUp)
	}
	if len(slices.Compact(slices.Clone(ids))) != len(ids) {
		return nil, apperr.Invalid("personIDs", "a member is named twice")
	}
	sys := viewer.System(ctx)
	t, err := l.client.Team.Query().Where(team.ID(in.TeamID)).Only(sys)
	if ent.IsNotFound(err) || err == nil && v.CommunityID != t.CommunityID && !v.IsAdmin() {
		return nil, apperr.New(apperr.NotFound, "no such team")
	}
	if err != nil {
		return nil, err
	}
	if err := authz.SignUpTeam(v, t.CommunityID, t.ID); err != nil {
		return nil, err
	}
	hash := idem.Hash(opSignUpTeam, in.SlotID, in.TeamID, fmt.Sprint(ids))
	if in.IdempotencyKey != "" {
		outcome, _, err := idem.Check(ctx, l.client.IdempotencyKey, "idempotencyKey", opSignUpTeam, v.PersonID, in.IdempotencyKey, hash)
		if err != nil {
			return nil, err
		}
		if outcome == idem.Replay {
			return nil, nil
		}
	}
	ms, err := l.client.TeamMembership.Query().Where(teammembership.TeamID(t.ID), teammembership.PersonIDIn(ids...)).
		WithPerson().All(sys)
	if err != nil {
		return nil, err
	}
	byID := map[int]*ent.Person{}
	for _, m := range ms {
		byID[m.PersonID] = m.Edges.Person
	}
	o := &teamOp{leader: v, in: in, hash: hash, cancel: cancel}
	for i, id := range in.PersonIDs {
		p := byID[id]
		if p == nil {
			return nil, apperr.Invalid(fmt.Sprintf("personIDs[%d]", i), "not a member of this team")
		}
		m := member{id: id, name: p.DisplayName, v: &viewer.Viewer{PersonID: p.ID, CommunityID: p.CommunityID}}
		for _, r := range p.Roles {
			m.v.Roles = append(m.v.Roles, viewer.Role(r))
		}
		if !cancel {
			if m.code, err = newCheckInCode(); err != nil {
				return nil, err
			}
		}
		o.members = append(o.members, m)
	}
	if o.activityID, err = l.activityOf(ctx, in.SlotID); err != nil {
		return nil, err
	}
	return o, nil
}

// teamReplay answers a team sign-up whose key was answered before (err:
// teamOp's refusal, returned as it is).
func (l *Ledger) teamReplay(ctx context.Context, in TeamSignUpInput, err error) ([]TeamMember, error) {
	if err != nil {
		return nil, err
	}
	v := viewer.FromContext(ctx)
	ids := slices.Sorted(slices.Values(in.PersonIDs))
	hash := idem.Hash(opSignUpTeam, in.SlotID, in.TeamID, fmt.Sprint(ids))
	outcome, answer, err := idem.Check(ctx, l.client.IdempotencyKey, "idempotencyKey", opSignUpTeam, v.PersonID, in.IdempotencyKey, hash)
	if err != nil {
		return nil, err
	}
	if outcome != idem.Replay {
		return nil, apperr.New(apperr.Conflict, "a concurrent request changed this slot; retry")
	}
	return parseTeamAnswer(answer)
}

func (o *teamOp) Decide(ctx context.Context, b *Batch) error {
	o.regs, o.out = nil, nil
	a := b.Activity()
	if a.CommunityID != o.members[0].v.CommunityID || !authz.ActivityVisibleTo(o.leader, a) {
		return apperr.New(apperr.NotFound, "no such slot")
	}
	s, err := b.Slot(ctx, o.in.SlotID)
	if err != nil {
		return err
	}
	if o.cancel {
		return o.decideRemoval(ctx, b, s)
	}
	if err := WindowError(a, b.Now()); err != nil {
		return err
	}
	if s.Kind != slot.KindVOLUNTEER {
		return apperr.Invalid("slotID", "a team signs up for volunteer positions")
	}
	held, err := b.tx.Registration.Query().Where(registration.SlotID(s.ID), registration.PersonIDIn(o.people()...),
		registration.StatusIn(registration.StatusCONFIRMED, registration.StatusWAITLISTED, registration.StatusPENDING_APPROVAL,
			registration.StatusCHECKED_IN, registration.StatusCHECKED_OUT)).
		Select(registration.FieldPersonID).Ints(viewer.System(ctx))
	if err != nil {
		return err
	}
	var refusals []string
	var code apperr.Code
	statuses := make([]registration.Status, len(o.members))
	confirmed, pending := 0, 0
	for i, m := range o.members {
		st, err := b.Standing(ctx, m.id)
		if err != nil {
			return err
		}
		err = Eligible(m.v, a, s, 1, false, st)
		if err == nil && (slices.Contains(held, m.id) || b.g.signedUp[[2]int{s.ID, m.id}]) {
			err = apperr.New(apperr.AlreadyRegistered, "already signed up for this slot")
		}
		if e, ok := apperr.As(err); ok {
			code = cmpOr(code, e.Code)
			refusals = append(refusals, fmt.Sprintf("%s: %s (%s)", m.name, e.Message, e.Code))
			continue
		}
		if err != nil {
			return err
		}
		statuses[i] = registration.StatusCONFIRMED
		if NeedsApproval(s, st) {
			statuses[i] = registration.StatusPENDING_APPROVAL
			pending++
		} else {
			confirmed++
		}
	}
	if len(refusals) > 0 {
		return apperr.New(code, "nobody was signed up: %s", strings.Join(refusals, "; "))
	}
	if confirmed > 0 && !Fits(s, confirmed) {
		if s.Waitlisted > 0 {
			return apperr.New(apperr.CapacityFull, "nobody was signed up: the team needs %d seats and people are waiting for this slot", confirmed)
		}
		return apperr.New(apperr.CapacityFull, "nobody was signed up: the team needs %d seats and %d are free", confirmed, max(Free(s), 0))
	}
	if err := b.Add(ctx, s.ID, Counts{Taken: confirmed, Pending: pending}); err != nil {
		return err
	}
	for i, m := range o.members {
		r := &NewRegistration{SlotID: s.ID, PersonID: m.id, Seats: 1, Status: statuses[i], CheckInCode: m.code}
		b.Register(r)
		b.g.signedUp[[2]int{s.ID, m.id}] = true
		o.regs = append(o.regs, r)
		o.out = append(o.out, TeamMember{PersonID: m.id})
	}
	if o.in.IdempotencyKey != "" {
		b.g.afterInsert = append(b.g.afterInsert, func() *ent.IdempotencyKeyCreate {
			return idem.Record(b.tx.IdempotencyKey, opSignUpTeam, o.leader.PersonID, o.in.IdempotencyKey, o.hash, o.answer(), b.Now())
		})
	}
	return nil
}

// decideRemoval cancels the members' open registrations in s.
func (o *teamOp) decideRemoval(ctx context.Context, b *Batch, s *ent.Slot) error {
	regs, err := b.tx.Registration.Query().Where(registration.SlotID(s.ID), registration.PersonIDIn(o.people()...),
		registration.StatusIn(registration.StatusCONFIRMED, registration.StatusWAITLISTED, registration.StatusPENDING_APPROVAL,
			registration.StatusCHECKED_IN, registration.StatusCHECKED_OUT)).
		Order(registration.ByID()).All(viewer.System(ctx))
	if err != nil {
		return err
	}
	for _, r := range regs {
		if r.Status == registration.StatusCHECKED_IN || r.Status == registration.StatusCHECKED_OUT {
			return apperr.New(apperr.Conflict, "nobody was removed: person %d has attended", r.PersonID)
		}
	}
	for _, r := range regs {
		if err := b.setStatus(ctx, r, registration.StatusCANCELLED, nillable(o.reason)); err != nil {
			return err
		}
		if err := b.Add(ctx, r.SlotID, Held(r.Status, r.Seats).Neg()); err != nil {
			return err
		}
		b.Publish(b.Changed(r.ID, r.PersonID, ChangeCancelled))
		o.out = append(o.out, TeamMember{PersonID: r.PersonID, RegistrationID: r.ID, Status: registration.StatusCANCELLED})
	}
	return nil
}

// answer is what the key remembers: each member's person, registration
// and status.
func (o *teamOp) answer() []byte {
	var sb strings.Builder
	for _, r := range o.regs {
		fmt.Fprintf(&sb, "%d %d %s\n", r.PersonID, r.Registration.ID, r.Status)
	}
	return []byte(sb.String())
}

func parseTeamAnswer(b []byte) ([]TeamMember, error) {
	var out []TeamMember
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("ledger: bad team answer %q", b)
		}
		p, err1 := strconv.Atoi(f[0])
		r, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("ledger: bad team answer %q", b)
		}
		out = append(out, TeamMember{PersonID: p, RegistrationID: r, Status: registration.Status(f[2])})
	}
	return out, nil
}

func cmpOr(a, b apperr.Code) apperr.Code {
	if a != "" {
		return a
	}
	return b
}
