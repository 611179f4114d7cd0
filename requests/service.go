package requests

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"entgo.io/ent/dialect/sql"

	"linli/apperr"
	"linli/authz"
	"linli/cst"
	"linli/ent"
	"linli/ent/community"
	"linli/ent/request"
	"linli/ent/requestevent"
	"linli/ent/teammembership"
	"linli/events"
	"linli/idem"
	"linli/store"
	"linli/viewer"
)

// DefaultReopenDays is how many days after resolution the submitter may
// reopen a request, unless configured (-request-reopen-days).
const DefaultReopenDays = 7

// Service runs requests.
type Service struct {
	db     *store.DB
	client *ent.Client
	events events.Publisher
	// ReopenDays is the reopen window after resolution, in days.
	ReopenDays int
	// SubmissionLimits bounds self-submissions (limits.go); off with the
	// server's rate limits (-login-rate 0, load tests).
	SubmissionLimits bool
}

// New returns the requests service over db, announcing transitions to pub.
func New(db *store.DB, pub events.Publisher, reopenDays int) *Service {
	if pub == nil {
		pub = events.Discard{}
	}
	if reopenDays <= 0 {
		reopenDays = DefaultReopenDays
	}
	return &Service{db: db, client: db.Client, events: pub, ReopenDays: reopenDays}
}

func (s *Service) now() time.Time {
	return time.Now().UTC()
}

// SubmitInput is a new request.
type SubmitInput struct {
	Kind        request.Kind
	Title       string
	Description string
	// Channel is APP for a resident's own request; staff entering one for
	// someone else give how it came in.
	Channel     request.Channel
	HouseholdID *int
	OnBehalfOf  *int
	// IdempotencyKey makes a retried submission return the first one.
	IdempotencyKey string
}

func signedIn(ctx context.Context) (*viewer.Viewer, error) {
	v := viewer.FromContext(ctx)
	switch {
	case v == nil:
		return nil, apperr.New(apperr.Unauthenticated, "authentication required")
	case v.IsKiosk() || v.PersonID == 0:
		return nil, apperr.New(apperr.Forbidden, "only people raise and handle requests")
	}
	return v, nil
}

func checkText(field, s string, minLen, maxLen int) error {
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	switch {
	case n < minLen:
		return apperr.Invalid(field, "%s must not be empty", field)
	case utf8.RuneCountInString(s) > maxLen:
		return apperr.Invalid(field, "%s is longer than %d characters", field, maxLen)
	}
	return nil
}

// Submit records a new request: a resident's own (channel APP), or one
// staff enter for a resident (OnBehalfOf), a household, or nobody in
// particular (an anonymous call), with the channel it came by.
func (s *Service) Submit(ctx context.Context, in SubmitInput) (*ent.Request, error) {
	v, err := signedIn(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkText("title", in.Title, 1, 200); err != nil {
		return nil, err
	}
	if err := checkText("description", in.Description, 0, 5000); err != nil {
		return nil, err
	}
	if err := idem.Validate("idempotencyKey", in.IdempotencyKey); err != nil {
		return nil, err
	}
	if in.Channel == "" {
		in.Channel = request.ChannelAPP
	}
	onBehalf := in.OnBehalfOf != nil || in.HouseholdID != nil
	switch {
	case (onBehalf || in.Channel != request.ChannelAPP) && !v.IsStaff():
		if onBehalf {
			return nil, apperr.New(apperr.Forbidden, "only staff enter requests on someone's behalf")
		}
		return nil, apperr.Invalid("channel", "a resident's own request comes by APP")
	case onBehalf && in.Channel == request.ChannelAPP:
		return nil, apperr.Invalid("channel", "say how a request entered on someone's behalf came in (PHONE, WALK_IN, HOME_VISIT, WECHAT_GROUP)")
	}
	submitter := &v.PersonID
	if in.Channel != request.ChannelAPP {
		submitter = nil
	}
	if in.OnBehalfOf != nil {
		p, err := s.client.Person.Get(ctx, *in.OnBehalfOf)
		if err != nil || p.CommunityID != v.CommunityID {
			return nil, apperr.Invalid("onBehalfOfID", "no such resident in this community")
		}
		submitter = &p.ID
	}
	if in.HouseholdID != nil {
		h, err := s.client.Household.Get(ctx, *in.HouseholdID)
		if err != nil || h.CommunityID != v.CommunityID {
			return nil, apperr.Invalid("householdID", "no such household in this community")
		}
	}
	hash := submitHash(in, submitter)
	if in.IdempotencyKey != "" {
		if r, err := s.replay(ctx, v, in.IdempotencyKey, hash); r != nil || err != nil {
			return r, err
		}
	}
	sys := viewer.System(ctx)
	var id, evID int
	// A number taken meanwhile (another replica's submission: SQLite
	// queues its writers, PostgreSQL locks the community row, so this is a
	// safety net) is retried with the next one.
	for attempt := 0; ; attempt++ {
		id, evID, err = s.insert(sys, v, in, submitter, hash)
		if err == nil {
			break
		}
		if in.IdempotencyKey != "" && store.IsUniqueViolation(err) {
			if r, rerr := s.replay(ctx, v, in.IdempotencyKey, hash); r != nil || rerr != nil {
				return r, rerr
			}
		}
		if !(store.IsUniqueViolation(err) || store.IsTransient(err)) || attempt >= 20 || ctx.Err() != nil {
			return nil, err
		}
	}
	s.publish(v.CommunityID, id, evID, submitter)
	return s.client.Request.Get(sys, id)
}

// insert numbers and creates the request with its SUBMIT event.
func (s *Service) insert(ctx context.Context, v *viewer.Viewer, in SubmitInput, submitter *int, hash []byte) (id, evID int, err error) {
	err = s.inTx(ctx, func(tx *ent.Tx) error {
		q := tx.Community.Query().Where(community.ID(v.CommunityID))
		var (
			c   *ent.Community
			err error
		)
		if s.db.IsSQLite() {
			c, err = q.Only(ctx)
		} else {
			// Submissions of one community take their numbers in turn.
			c, err = q.Modify(func(s *sql.Selector) { s.ForUpdate() }).Only(ctx)
		}
		if err != nil {
			return err
		}
		now := s.now()
		if s.SubmissionLimits {
			if err := checkSubmissionRate(ctx, tx, c.ID, v.PersonID, in.Channel, now); err != nil {
				return err
			}
		}
		year := now.In(cst.Zone).Year()
		var last []struct {
			Max *int `json:"max"`
		}
		if err := tx.Request.Query().Where(request.CommunityID(c.ID), request.Year(year)).
			Aggregate(ent.Max(request.FieldSeq)).Scan(ctx, &last); err != nil {
			return err
		}
		seq := 1
		if len(last) > 0 && last[0].Max != nil {
			seq = *last[0].Max + 1
		}
		prefix := c.RequestPrefix
		if prefix == "" {
			prefix = "R"
		}
		create := tx.Request.Create().SetCommunityID(c.ID).SetYear(year).SetSeq(seq).
			SetNumber(fmt.Sprintf("%s-%d-%04d", prefix, year, seq)).
			SetKind(in.Kind).SetChannel(in.Channel).SetTitle(strings.TrimSpace(in.Title)).
			SetDescription(in.Description).SetNillableSubmitterID(submitter).
			SetNillableHouseholdID(in.HouseholdID).SetCreatedByID(v.PersonID).
			SetCreatedAt(now).SetUpdatedAt(now)
		r, err := create.Save(ctx)
		if err != nil {
			return err
		}
		if in.IdempotencyKey != "" {
			if err := idem.Remember(ctx, tx, opSubmit, v.PersonID, in.IdempotencyKey, hash, []byte(strconv.Itoa(r.ID))); err != nil {
				return err
			}
		}
		ev, err := tx.RequestEvent.Create().SetCommunityID(c.ID).SetRequestID(r.ID).SetAt(now).
			SetAction(string(Submit)).SetStatus(requestEventStatus(r.Status)).SetActorID(v.PersonID).
			SetNote(string(in.Channel)).Save(ctx)
		if err != nil {
			return err
		}
		id, evID = r.ID, ev.ID
		return nil
	})
	return id, evID, err
}

// opSubmit is a submission's idempotency scope.
const opSubmit = "submitRequest"

// submitHash identifies a submission's input as it is recorded.
func submitHash(in SubmitInput, submitter *int) []byte {
	opt := func(p *int) any {
		if p == nil {
			return "none"
		}
		return *p
	}
	return idem.Hash(opSubmit, in.Kind, strings.TrimSpace(in.Title), in.Description, in.Channel,
		opt(in.HouseholdID), opt(submitter))
}

// replay applies the idempotency rule (idem.Check) to v's key: the first
// request for the same input, CONFLICT for different input, nil, nil when
// the key is new.
func (s *Service) replay(ctx context.Context, v *viewer.Viewer, key string, hash []byte) (*ent.Request, error) {
	o, answer, err := idem.Check(ctx, s.client.IdempotencyKey, "idempotencyKey", opSubmit, v.PersonID, key, hash)
	if err != nil || o != idem.Replay {
		return nil, err
	}
	id, err := strconv.Atoi(string(answer))
	if err != nil {
		return nil, fmt.Errorf("requests: bad stored answer %q", answer)
	}
	// As linli itself, as before: the submitter may no longer read it.
	return s.client.Request.Get(viewer.System(ctx), id)
}

// inTx runs fn in an Ent transaction as the caller's context (the system,
// after the service's checks), retrying transient failures.
func (s *Service) inTx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	return store.InTx(ctx, s.client, store.TxOptions{Lock: s.db.Writers()}, fn)
}

func (s *Service) publish(cid, id, evID int, submitter *int) {
	ev := events.Event{Kind: events.Request, CommunityID: cid, RequestID: id, RequestEventID: evID}
	if submitter != nil {
		ev.PersonID = *submitter
	}
	s.events.Publish(ev)
}

// change is what a transition writes besides status, version and history.
type change struct {
	// to overrides the transition's status (reopen without an assignee).
	to   request.Status
	note string
	set  func(u *ent.RequestUpdate)
}

// errConflict: the row moved on since it was read.
var errConflict = errors.New("requests: changed meanwhile")

// transition makes action on request id for the viewer: the request must
// be one they may read (else NOT_FOUND), its status must allow the action
// (else CONFLICT) and the viewer must hold a role the table names for it
// (else FORBIDDEN); prepare validates the input and says what to write.
// The row is updated only at the version read, so of two concurrent
// transitions one wins and the other is CONFLICT.
func (s *Service) transition(ctx context.Context, id int, action Action,
	prepare func(r *ent.Request, roles authz.RequestRole, now time.Time) (change, error)) (*ent.Request, error) {
	v, err := signedIn(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.client.Request.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "request not found")
	}
	if err != nil {
		return nil, err
	}
	roles := authz.RequestRoles(v, r.CommunityID, r.SubmitterID, r.TeamID, r.AssigneeID)
	tr, statusOK, allowed := find(action, r.Status, roles)
	switch {
	case !statusOK:
		return nil, apperr.New(apperr.Conflict, "a %s request cannot be %s", r.Status, pastTense(action))
	case !allowed:
		return nil, apperr.New(apperr.Forbidden, "you may not %s this request", strings.ToLower(string(action)))
	}
	now := s.now()
	ch, err := prepare(r, roles, now)
	if err != nil {
		return nil, err
	}
	to := tr.To
	if ch.to != "" {
		to = ch.to
	}
	sys := viewer.System(ctx)
	var evID int
	err = s.inTx(sys, func(tx *ent.Tx) error {
		u := tx.Request.Update().Where(request.ID(r.ID), request.Version(r.Version)).
			SetStatus(to).SetVersion(r.Version + 1).SetUpdatedAt(now)
		if ch.set != nil {
			ch.set(u)
		}
		n, err := u.Save(sys)
		if err != nil {
			return err
		}
		if n == 0 {
			return errConflict
		}
		ev, err := tx.RequestEvent.Create().SetCommunityID(r.CommunityID).SetRequestID(r.ID).SetAt(now).
			SetAction(string(action)).SetStatus(requestEventStatus(to)).SetActorID(v.PersonID).
			SetNote(ch.note).Save(sys)
		if err != nil {
			return err
		}
		evID = ev.ID
		return notifyTransition(sys, tx, r, action, to, v.PersonID)
	})
	if errors.Is(err, errConflict) {
		return nil, apperr.New(apperr.Conflict, "the request changed meanwhile; reload it")
	}
	if err != nil {
		return nil, err
	}
	s.publish(r.CommunityID, r.ID, evID, r.SubmitterID)
	return s.client.Request.Get(sys, r.ID)
}

func pastTense(a Action) string {
	switch a {
	case Accept:
		return "accepted"
	case Assign:
		return "assigned"
	case Start:
		return "started"
	case Resolve:
		return "resolved"
	case Confirm:
		return "confirmed"
	case Reopen:
		return "reopened"
	case Reject:
		return "rejected"
	}
	return strings.ToLower(string(a)) + "ed"
}

// Accept takes a submitted request on; it is due at dueAt, or after the
// kind's default (DueAfter).
func (s *Service) Accept(ctx context.Context, id int, dueAt *time.Time) (*ent.Request, error) {
	return s.transition(ctx, id, Accept, func(r *ent.Request, _ authz.RequestRole, now time.Time) (change, error) {
		due := now.Add(dueAfter(r.Kind))
		if dueAt != nil {
			if !dueAt.After(now) {
				return change{}, apperr.Invalid("dueAt", "dueAt must be in the future")
			}
			due = dueAt.UTC()
		}
		return change{note: "due " + due.In(cst.Zone).Format("2006-01-02 15:04"), set: func(u *ent.RequestUpdate) {
			u.SetAcceptedAt(now).SetDueAt(due)
		}}, nil
	})
}

// Assign hands a request to a team of its community and/or a volunteer
// (who, with a team, must be in it); both replace the previous ones.
func (s *Service) Assign(ctx context.Context, id int, teamID, assigneeID *int) (*ent.Request, error) {
	return s.transition(ctx, id, Assign, func(r *ent.Request, _ authz.RequestRole, _ time.Time) (change, error) {
		if teamID == nil && assigneeID == nil {
			return change{}, apperr.Invalid("teamID", "assign to a team, a volunteer or both")
		}
		var names []string
		if teamID != nil {
			t, err := s.client.Team.Get(ctx, *teamID)
			if err != nil || t.CommunityID != r.CommunityID {
				return change{}, apperr.Invalid("teamID", "no such team in this community")
			}
			names = append(names, t.Name)
		}
		if assigneeID != nil {
			p, err := s.client.Person.Get(ctx, *assigneeID)
			if err != nil || p.CommunityID != r.CommunityID {
				return change{}, apperr.Invalid("assigneeID", "no such volunteer in this community")
			}
			if teamID != nil {
				in, err := s.client.TeamMembership.Query().
					Where(teammembership.TeamID(*teamID), teammembership.PersonID(p.ID)).Exist(viewer.System(ctx))
				if err != nil {
					return change{}, err
				}
				if !in {
					return change{}, apperr.Invalid("assigneeID", "the volunteer is not a member of that team")
				}
			} else if !slices.Contains(p.Roles, string(viewer.Volunteer)) {
				return change{}, apperr.Invalid("assigneeID", "the person is not a volunteer")
			}
			names = append(names, p.DisplayName)
		}
		return change{note: strings.Join(names, " / "), set: func(u *ent.RequestUpdate) {
			if teamID != nil {
				u.SetTeamID(*teamID)
			} else {
				u.ClearTeamID()
			}
			if assigneeID != nil {
				u.SetAssigneeID(*assigneeID)
			} else {
				u.ClearAssigneeID()
			}
		}}, nil
	})
}

// Start marks an assigned request as being worked on.
func (s *Service) Start(ctx context.Context, id int) (*ent.Request, error) {
	return s.transition(ctx, id, Start, func(*ent.Request, authz.RequestRole, time.Time) (change, error) {
		return change{}, nil
	})
}

// Resolve records the outcome and what was done.
func (s *Service) Resolve(ctx context.Context, id int, outcome request.Outcome, resolution string) (*ent.Request, error) {
	return s.transition(ctx, id, Resolve, func(_ *ent.Request, _ authz.RequestRole, now time.Time) (change, error) {
		if err := request.OutcomeValidator(outcome); err != nil {
			return change{}, apperr.Invalid("outcome", "unknown outcome")
		}
		if err := checkText("resolution", resolution, 1, 5000); err != nil {
			return change{}, err
		}
		return change{note: resolution, set: func(u *ent.RequestUpdate) {
			u.SetOutcome(outcome).SetResolution(resolution).SetResolvedAt(now)
		}}, nil
	})
}

// Confirm closes a resolved request with the submitter's satisfaction
// (1–5): from the submitter, or from staff after a follow-up call (回访),
// which the request then says (confirmedByStaff).
func (s *Service) Confirm(ctx context.Context, id, satisfaction int, comment string) (*ent.Request, error) {
	return s.transition(ctx, id, Confirm, func(_ *ent.Request, roles authz.RequestRole, now time.Time) (change, error) {
		if satisfaction < 1 || satisfaction > 5 {
			return change{}, apperr.Invalid("satisfaction", "satisfaction is 1 to 5")
		}
		if err := checkText("comment", comment, 0, 2000); err != nil {
			return change{}, err
		}
		byStaff := roles&submitter == 0
		return change{note: comment, set: func(u *ent.RequestUpdate) {
			u.SetSatisfaction(satisfaction).SetConfirmedByStaff(byStaff).SetClosedAt(now)
		}}, nil
	})
}

// Reopen sends a resolved (or closed) request back to its assignee, when
// the submitter asks within the reopen window; its outcome, resolution and
// rating are cleared (the history keeps them).
func (s *Service) Reopen(ctx context.Context, id int, reason string) (*ent.Request, error) {
	return s.transition(ctx, id, Reopen, func(r *ent.Request, _ authz.RequestRole, now time.Time) (change, error) {
		if err := checkText("reason", reason, 1, 2000); err != nil {
			return change{}, err
		}
		window := time.Duration(s.ReopenDays) * 24 * time.Hour
		if r.ResolvedAt != nil && now.Sub(*r.ResolvedAt) > window {
			return change{}, apperr.New(apperr.ReopenWindowClosed,
				"a request can be reopened within %d days of its resolution; please submit a new one", s.ReopenDays)
		}
		ch := change{note: reason, set: func(u *ent.RequestUpdate) {
			u.ClearOutcome().ClearResolution().ClearResolvedAt().ClearClosedAt().ClearSatisfaction().SetConfirmedByStaff(false)
		}}
		if r.TeamID == nil && r.AssigneeID == nil {
			ch.to = request.StatusACCEPTED
		}
		return ch, nil
	})
}

// Reject turns a request down with a reason.
func (s *Service) Reject(ctx context.Context, id int, reason string) (*ent.Request, error) {
	return s.transition(ctx, id, Reject, func(*ent.Request, authz.RequestRole, time.Time) (change, error) {
		if err := checkText("reason", reason, 1, 2000); err != nil {
			return change{}, err
		}
		return change{note: reason}, nil
	})
}

// requestEventStatus is s as a history entry's status (the same values).
func requestEventStatus(s request.Status) requestevent.Status { return requestevent.Status(s) }

// RecordVisit adds to r's history, inside the caller's transaction, that
// home visit visitID served it (action VISIT; the status stays). The
// caller publishes the returned event after its commit.
func RecordVisit(ctx context.Context, tx *ent.Tx, r *ent.Request, visitID, actorID int, note string) (events.Event, error) {
	sys := viewer.System(ctx)
	c := tx.RequestEvent.Create().SetCommunityID(r.CommunityID).SetRequestID(r.ID).SetAt(time.Now().UTC()).
		SetAction(string(Visit)).SetStatus(requestEventStatus(r.Status)).SetHomeVisitID(visitID).SetNote(note)
	if actorID != 0 {
		c.SetActorID(actorID)
	}
	ev, err := c.Save(sys)
	if err != nil {
		return events.Event{}, err
	}
	out := events.Event{Kind: events.Request, CommunityID: r.CommunityID, RequestID: r.ID, RequestEventID: ev.ID}
	if r.SubmitterID != nil {
		out.PersonID = *r.SubmitterID
	}
	return out, nil
}
