package auth

import (
	"context"
	"time"

	"linli/ent/session"
	"linli/viewer"
)

// Lifetimes are how long a session lasts, by class (等保 level 2): an
// absolute lifetime from sign-in, and an idle timeout after its last use.
// Staff (coordinators and platform admins, who read everyone's data) get
// shorter ones than residents, volunteers and team leaders.
type Lifetimes struct {
	Resident, Staff         time.Duration // absolute, from sign-in
	ResidentIdle, StaffIdle time.Duration // since the last use
}

// Defaults of Lifetimes: a resident's phone stays signed in for a month
// (and a week unused); a staff desktop for a working day, and half an hour
// unused.
const (
	DefaultSessionLifetime      = 30 * 24 * time.Hour
	DefaultSessionIdle          = 7 * 24 * time.Hour
	DefaultStaffSessionLifetime = 12 * time.Hour
	DefaultStaffSessionIdle     = 30 * time.Minute
)

func (l Lifetimes) withDefaults() Lifetimes {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&l.Resident, DefaultSessionLifetime)
	def(&l.ResidentIdle, DefaultSessionIdle)
	def(&l.Staff, DefaultStaffSessionLifetime)
	def(&l.StaffIdle, DefaultStaffSessionIdle)
	return l
}

// StaffClass reports whether a person with roles gets staff sessions: a
// coordinator or a platform admin.
func StaffClass(roles []viewer.Role) bool {
	for _, r := range roles {
		if r == viewer.Coordinator || r == viewer.Admin {
			return true
		}
	}
	return false
}

// of is the absolute lifetime and idle timeout of a class.
func (l Lifetimes) of(staff bool) (lifetime, idle time.Duration) {
	if staff {
		return l.Staff, l.StaffIdle
	}
	return l.Resident, l.ResidentIdle
}

// sessionEnd is when a session that began at created ends for a person
// of roles, whatever expires_at says: a resident promoted to coordinator
// keeps their session only for the staff lifetime from its start.
func (s *Service) sessionEnd(created, expires time.Time, roles []viewer.Role) time.Time {
	life, _ := s.lifetimes.of(StaffClass(roles))
	if end := created.Add(life); end.Before(expires) {
		return end
	}
	return expires
}

// touchEvery is how stale a session's idle expiry may get before a use
// moves it: at most one write per session a minute.
const touchEvery = time.Minute

// touch moves a session's idle expiry to a full idle timeout from now,
// when it is more than touchEvery behind; it returns the expiry in force
// (zero: none).
//
// A session without an idle expiry (issued before it existed, or by bulk
// fixtures and load tools) has no idle timeout and is never written to.
func (s *Service) touch(ctx context.Context, sessionID int, idleUntil *time.Time, roles []viewer.Role, now time.Time) (time.Time, error) {
	_, idle := s.lifetimes.of(StaffClass(roles))
	want := now.Add(idle)
	if idleUntil == nil {
		return time.Time{}, nil
	}
	if !idleUntil.Before(want.Add(-touchEvery)) && !idleUntil.After(want) {
		return *idleUntil, nil
	}
	// A class that got shorter (a promotion) takes effect here too.
	if err := s.db.Client.Session.Update().Where(session.ID(sessionID), session.RevokedAtIsNil()).
		SetIdleExpiresAt(want).Exec(viewer.System(ctx)); err != nil {
		return time.Time{}, err
	}
	return want, nil
}
