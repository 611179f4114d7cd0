package notify

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"linli/ent"
	"linli/ent/activity"
	"linli/ent/community"
	"linli/ent/notification"
	"linli/ent/notificationpreference"
	"linli/ent/person"
	"linli/ent/teammembership"
	"linli/events"
	"linli/jobs"
	"linli/store"
	"linli/viewer"
)

// Options tune the Service; zero fields take the defaults in parentheses.
type Options struct {
	// ReminderSweep is how often reminders that fell due are written (10 s).
	ReminderSweep time.Duration
	// FollowUpAfter is how long after a request's resolution its
	// submitter, if they have not confirmed it, is asked how it went (72 h).
	FollowUpAfter time.Duration
	// Off: nobody is told anything (Emit does nothing, SetOff).
	Off    bool
	Logger *slog.Logger
}

// Service writes notifications: the event and sweep jobs' handlers, the
// inbox reads and writes of a person.
type Service struct {
	db        *store.DB
	client    *ent.Client
	events    events.Publisher
	o         Options
	consumers []named
}

type named struct {
	name string
	f    Consumer
}

// New makes the service; Register puts its handlers on a Runner.
func New(db *store.DB, pub events.Publisher, o Options) *Service {
	if o.ReminderSweep <= 0 {
		o.ReminderSweep = 10 * time.Second
	}
	if o.FollowUpAfter <= 0 {
		o.FollowUpAfter = 72 * time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if pub == nil {
		pub = events.Discard{}
	}
	return &Service{db: db, client: db.Client, events: pub, o: o}
}

// AddConsumer registers f to see every worked event (before Register's
// Runner starts).
func (s *Service) AddConsumer(name string, f Consumer) {
	s.consumers = append(s.consumers, named{name, f})
}

// Register puts the service's handlers on r: events, and the reminder and
// follow-up sweeps (periodic).
func (s *Service) Register(r *jobs.Runner) {
	r.Handle(KindEvent, s.workEvent)
	r.Periodic(KindReminderSweep, s.o.ReminderSweep, s.sweepReminders)
	r.Periodic(KindFollowUpSweep, max(time.Minute, min(s.o.FollowUpAfter/10, 10*time.Minute)), s.sweepFollowUps)
}

// item is one notification to write.
type item struct {
	community, person int
	kind              notification.Kind
	title, body       string
	activity, reg     *int
	request           *int
	source            string
	// sendAt is when its external copies go (zero: now, adjusted for
	// quiet hours).
	sendAt time.Time
	prefs  Preferences
	quiet  QuietHours
	lead   int // a reminder's
}

// write inserts the items not written before (by source) and enqueues
// their external copies, all in tx; it returns the new rows.
func (s *Service) write(ctx context.Context, tx *ent.Tx, items []item, now time.Time) ([]*ent.Notification, error) {
	sys := viewer.System(ctx)
	var made []*ent.Notification
	for chunk := range slices.Chunk(items, 1000) {
		sources := make([]string, len(chunk))
		for i, it := range chunk {
			sources[i] = it.source
		}
		var seen []string
		if err := tx.Notification.Query().Where(notification.SourceIn(sources...)).Select(notification.FieldSource).Scan(sys, &seen); err != nil {
			return nil, err
		}
		var creates []*ent.NotificationCreate
		var fresh []item
		for _, it := range chunk {
			if slices.Contains(seen, it.source) {
				continue
			}
			seen = append(seen, it.source) // one per source within a call too
			creates = append(creates, tx.Notification.Create().SetCommunityID(it.community).SetPersonID(it.person).
				SetKind(it.kind).SetTitle(it.title).SetBody(it.body).SetCreatedAt(now).SetSource(it.source).
				SetNillableActivityID(it.activity).SetNillableRegistrationID(it.reg).SetNillableRequestID(it.request))
			fresh = append(fresh, it)
		}
		if len(creates) == 0 {
			continue
		}
		rows, err := tx.Notification.CreateBulk(creates...).Save(sys)
		if err != nil {
			return nil, err
		}
		var sends []jobs.Job
		for i, n := range rows {
			it := fresh[i]
			at := it.sendAt
			if at.IsZero() {
				at = it.quiet.Deliver(now)
			}
			for _, ch := range Channels {
				if it.prefs.Wants(it.kind, ch) {
					sends = append(sends, jobs.Job{Kind: KindSend, Key: SendKey(n.ID, ch), RunAt: at,
						Payload: SendPayload{NotificationID: n.ID, Channel: ch}})
				}
			}
		}
		if err := jobs.Enqueue(ctx, tx, sends...); err != nil {
			return nil, err
		}
		made = append(made, rows...)
	}
	return made, nil
}

// announce tells live subscribers (every replica) of new notifications.
func (s *Service) announce(made []*ent.Notification) {
	if len(made) == 0 {
		return
	}
	evs := make([]events.Event, len(made))
	for i, n := range made {
		evs[i] = events.Event{Kind: events.Notification, CommunityID: n.CommunityID, PersonID: n.PersonID, NotificationID: n.ID}
	}
	s.events.Publish(evs...)
}

// prefsOf reads the preferences of people (their rows and communities).
func (s *Service) prefsOf(ctx context.Context, people []int) (map[int]Preferences, map[int]QuietHours, error) {
	sys := viewer.System(ctx)
	prefs := map[int]Preferences{}
	quiet := map[int]QuietHours{}
	rows := map[int]*ent.NotificationPreference{}
	communityOf := map[int]int{}
	for chunk := range slices.Chunk(people, 5000) {
		rs, err := s.client.NotificationPreference.Query().Where(notificationpreference.PersonIDIn(chunk...)).All(sys)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range rs {
			rows[r.PersonID] = r
		}
		var ps []struct {
			ID          int `json:"id"`
			CommunityID int `json:"community_id"`
		}
		if err := s.client.Person.Query().Where(person.IDIn(chunk...)).Select(person.FieldID, person.FieldCommunityID).Scan(sys, &ps); err != nil {
			return nil, nil, err
		}
		for _, p := range ps {
			communityOf[p.ID] = p.CommunityID
		}
	}
	var cids []int
	for _, c := range communityOf {
		if !slices.Contains(cids, c) {
			cids = append(cids, c)
		}
	}
	cs, err := s.client.Community.Query().Where(community.IDIn(cids...)).All(sys)
	if err != nil {
		return nil, nil, err
	}
	byID := map[int]*ent.Community{}
	for _, c := range cs {
		byID[c.ID] = c
	}
	for _, p := range people {
		c, ok := communityOf[p]
		if !ok {
			continue // no such person
		}
		eff := Effective(byID[c], rows[p])
		prefs[p] = eff
		quiet[p] = eff.Quiet(byID[c])
	}
	return prefs, quiet, nil
}

// workEvent is the KindEvent handler.
func (s *Service) workEvent(ctx context.Context, c *jobs.Claimed) error {
	var ev Event
	if err := c.Decode(&ev); err != nil {
		return err
	}
	sys := viewer.System(ctx)
	var a *ent.Activity
	var r *ent.Request
	var err error
	if ev.ActivityID != 0 {
		if a, err = s.client.Activity.Query().Where(activity.ID(ev.ActivityID)).WithVenue().Only(sys); err != nil {
			return notFoundIsPermanent(err)
		}
	}
	if ev.RequestID != 0 {
		if r, err = s.client.Request.Get(sys, ev.RequestID); err != nil {
			return notFoundIsPermanent(err)
		}
	}
	people := ev.PersonIDs
	if len(people) == 0 {
		if people, err = s.recipients(sys, ev, r); err != nil {
			return err
		}
	}
	prefs, quiet, err := s.prefsOf(sys, people)
	if err != nil {
		return err
	}
	title, body := text(ev.Kind, a, r, ev.Note)
	key := ev.Key
	if key == "" {
		key = fmt.Sprintf("e%d", c.ID)
	}
	var items []item
	var recipients []int
	for _, p := range people {
		pr, ok := prefs[p]
		if !ok || pr.Muted(ev.Kind) || p == ev.ActorID {
			continue
		}
		recipients = append(recipients, p)
		items = append(items, item{community: ev.CommunityID, person: p, kind: ev.Kind, title: title, body: body,
			activity: nonZero(ev.ActivityID), reg: nonZero(ev.RegistrationID), request: nonZero(ev.RequestID),
			source: fmt.Sprintf("%s:%d", key, p), prefs: pr, quiet: quiet[p]})
	}
	var made []*ent.Notification
	err = store.InTx(sys, s.client, store.TxOptions{Lock: s.db.Writers()}, func(tx *ent.Tx) error {
		now := time.Now().UTC()
		var err error
		if made, err = s.write(sys, tx, items, now); err != nil {
			return err
		}
		for _, cons := range s.consumers {
			if err := cons.f(sys, tx, ev, recipients); err != nil {
				return fmt.Errorf("notify: consumer %s: %w", cons.name, err)
			}
		}
		return c.CompleteIn(sys, tx)
	})
	if err != nil {
		return err
	}
	s.announce(made)
	return nil
}

// recipients resolves an event's people from its kind.
func (s *Service) recipients(ctx context.Context, ev Event, r *ent.Request) ([]int, error) {
	var out []int
	switch {
	case ev.RegistrationID != 0:
		reg, err := s.client.Registration.Get(ctx, ev.RegistrationID)
		if err != nil {
			return nil, notFoundIsPermanent(err)
		}
		out = []int{reg.PersonID}
	case r != nil && ev.Kind == notification.KindREQUEST_ASSIGNED:
		if r.AssigneeID != nil {
			out = []int{*r.AssigneeID}
		} else if r.TeamID != nil {
			err := s.client.TeamMembership.Query().Where(teammembership.TeamID(*r.TeamID), teammembership.RoleEQ(teammembership.RoleLEADER)).
				Select(teammembership.FieldPersonID).Scan(ctx, &out)
			if err != nil {
				return nil, err
			}
		}
	case r != nil:
		if r.SubmitterID != nil {
			out = []int{*r.SubmitterID}
		}
	}
	return out, nil
}

func nonZero(id int) *int {
	if id == 0 {
		return nil
	}
	return &id
}

func notFoundIsPermanent(err error) error {
	if ent.IsNotFound(err) {
		return jobs.Permanent(err)
	}
	return err
}
