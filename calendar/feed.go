package calendar

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"linli/auth"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/calendarfeed"
	"linli/ent/registration"
	"linli/ent/teammembership"
	"linli/viewer"
)

// PathPrefix is where feeds are served.
const PathPrefix = "/calendar/"

// maxTokenBytes bounds the token read from a path before it is hashed.
const maxTokenBytes = 100

// held are the registration statuses a person's feed lists: a seat
// (confirmed, and still after check-in or check-out) or a waitlist place.
var held = []registration.Status{registration.StatusCONFIRMED, registration.StatusWAITLISTED,
	registration.StatusCHECKED_IN, registration.StatusCHECKED_OUT}

// listed are the activity statuses a feed shows (never a draft).
var listed = []activity.Status{activity.StatusPUBLISHED, activity.StatusCOMPLETED}

// ServeHTTP serves GET /calendar/<token>.ics: the feed as text/calendar,
// never cached by anyone but the client (Cache-Control: no-store,
// private). An unknown or revoked token, or a holder no longer allowed
// the feed, is 404 alike.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Cache-Control", "no-store, private")
	name := strings.TrimPrefix(r.URL.Path, PathPrefix)
	token, ok := strings.CutSuffix(name, ".ics")
	if !ok || len(token) > maxTokenBytes || !strings.HasPrefix(token, tokenPrefix) {
		http.NotFound(w, r)
		return
	}
	cal, err := s.Feed(r.Context(), token)
	if ent.IsNotFound(err) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, "calendar unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="linli.ics"`)
	if r.Method == http.MethodHead {
		return
	}
	_ = cal.SerializeTo(w)
}

// Feed builds the calendar of token; an unknown or revoked one is an
// ent not-found error.
func (s *Service) Feed(ctx context.Context, token string) (*ics.Calendar, error) {
	sys := viewer.System(ctx)
	f, err := s.client.CalendarFeed.Query().Where(calendarfeed.TokenHash(auth.HashToken(token)),
		calendarfeed.RevokedAtIsNil()).Only(sys)
	if err != nil {
		return nil, err
	}
	holder, err := s.client.Person.Get(sys, f.PersonID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	from := now.Add(-Past)
	var events []event
	switch f.Scope {
	case calendarfeed.ScopePERSON:
		regs, err := s.client.Registration.Query().Where(registration.PersonID(f.PersonID),
			registration.StatusIn(held...),
			registration.HasActivityWith(activity.StatusIn(listed...), activity.StartsAtGTE(from))).
			WithActivity(func(q *ent.ActivityQuery) { q.WithVenue() }).WithSlot().
			Limit(MaxEvents).All(sys)
		if err != nil {
			return nil, err
		}
		for _, r := range regs {
			events = append(events, registrationEvent(r))
		}
	default:
		if !s.stillAllowed(sys, holder, f) {
			return nil, &ent.NotFoundError{}
		}
		q := s.client.Activity.Query().Where(activity.CommunityID(f.CommunityID), activity.StatusIn(listed...),
			activity.StartsAtGTE(from))
		if f.TeamID != nil {
			q.Where(activity.TeamID(*f.TeamID))
		} else if f.VenueID != nil {
			q.Where(activity.VenueID(*f.VenueID))
		}
		acts, err := q.WithVenue().Order(ent.Asc(activity.FieldStartsAt)).Limit(MaxEvents).All(sys)
		if err != nil {
			return nil, err
		}
		for _, a := range acts {
			events = append(events, activityEvent(a))
		}
	}
	slices.SortFunc(events, func(a, b event) int { return a.start.Compare(b.start) })
	return s.render(f, events, now), nil
}

// stillAllowed re-checks, at every fetch, that the holder of a team's or
// venue's feed may still have it: staff of the community, or (a team's
// feed) one of its leaders. A coordinator who lost the role loses the feed.
func (s *Service) stillAllowed(ctx context.Context, p *ent.Person, f *ent.CalendarFeed) bool {
	if slices.Contains(p.Roles, string(viewer.Admin)) ||
		p.CommunityID == f.CommunityID && slices.Contains(p.Roles, string(viewer.Coordinator)) {
		return true
	}
	if f.TeamID == nil || p.CommunityID != f.CommunityID || !slices.Contains(p.Roles, string(viewer.TeamLeader)) {
		return false
	}
	ok, err := s.client.TeamMembership.Query().Where(teammembership.PersonID(p.ID), teammembership.TeamID(*f.TeamID),
		teammembership.RoleEQ(teammembership.RoleLEADER)).Exist(ctx)
	return err == nil && ok
}

type event struct {
	// uidKind and uidID name the row the event stands for.
	uidKind                     string
	uidID                       int
	summary, place, description string
	start, end, modified        time.Time
	status                      ics.ObjectStatus
}

func place(a *ent.Activity) string {
	v := a.Edges.Venue
	if v == nil {
		return ""
	}
	if v.Address != "" {
		return v.Name + "（" + v.Address + "）"
	}
	return v.Name
}

func registrationEvent(r *ent.Registration) event {
	a, sl := r.Edges.Activity, r.Edges.Slot
	e := activityEvent(a)
	e.uidKind, e.uidID = "registration", r.ID
	if sl != nil {
		if sl.StartsAt != nil {
			e.start = *sl.StartsAt
		}
		if sl.EndsAt != nil {
			e.end = *sl.EndsAt
		}
		if sl.Kind == "VOLUNTEER" {
			e.summary += "（志愿岗位：" + sl.Name + "）"
		}
	}
	if r.Status == registration.StatusWAITLISTED {
		e.summary += "（候补）"
		e.status = ics.ObjectStatusTentative
	}
	return e
}

func activityEvent(a *ent.Activity) event {
	return event{uidKind: "activity", uidID: a.ID, summary: a.Title, place: place(a),
		description: truncate(a.Description, 2000), start: a.StartsAt, end: a.EndsAt, modified: a.UpdatedAt,
		status: ics.ObjectStatusConfirmed}
}

func (s *Service) render(f *ent.CalendarFeed, events []event, now time.Time) *ics.Calendar {
	cal := ics.NewCalendarFor("linli")
	cal.SetMethod(ics.MethodPublish)
	cal.SetXWRCalName(map[calendarfeed.Scope]string{calendarfeed.ScopePERSON: "我的邻里活动",
		calendarfeed.ScopeTEAM: "服务队活动", calendarfeed.ScopeVENUE: "场地活动"}[f.Scope])
	cal.SetXWRTimezone("Asia/Shanghai")
	cal.SetRefreshInterval("PT1H")
	cal.SetXPublishedTTL("PT1H")
	for _, e := range events {
		// UIDs carry the API's IDs (opaque), never row numbers.
		ev := cal.AddEvent(e.uidKind + "-" + s.encode(e.uidID) + "@linli")
		ev.SetDtStampTime(now)
		ev.SetStartAt(e.start)
		end := e.end
		if !end.After(e.start) {
			end = e.start.Add(time.Hour)
		}
		ev.SetEndAt(end)
		ev.SetModifiedAt(e.modified)
		ev.SetSummary(e.summary)
		if e.place != "" {
			ev.SetLocation(e.place)
		}
		if e.description != "" {
			ev.SetDescription(e.description)
		}
		ev.SetStatus(e.status)
		alarm := ev.AddAlarm()
		alarm.SetAction(ics.ActionDisplay)
		alarm.SetTrigger(fmt.Sprintf("-PT%dM", int(AlarmBefore/time.Minute)))
		alarm.SetProperty(ics.ComponentPropertyDescription, "即将开始："+e.summary)
	}
	return cal
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
