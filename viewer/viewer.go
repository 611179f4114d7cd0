// Package viewer holds who is making a request: a person with roles in a
// community, a kiosk device bound to a venue, or the system itself. It is
// carried in the request context and read by the privacy rules in authz.
package viewer

import (
	"context"
	"slices"
	"sync/atomic"
	"time"
)

// Role is a person's role. ADMIN is platform-wide; the others apply in the
// person's own community.
type Role string

// The roles, as named in the GraphQL API.
const (
	Resident    Role = "RESIDENT"
	Volunteer   Role = "VOLUNTEER"
	TeamLeader  Role = "TEAM_LEADER"
	Coordinator Role = "COORDINATOR"
	Admin       Role = "ADMIN"
)

// AllRoles lists every role in the order the API documents them.
var AllRoles = []Role{Resident, Volunteer, TeamLeader, Coordinator, Admin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(AllRoles, r) }

// Viewer is the authenticated party of a request.
type Viewer struct {
	PersonID    int
	CommunityID int
	Roles       []Role
	SessionID   int
	ExpiresAt   time.Time

	// LeadTeams are the teams the person leads. It is filled only for holders
	// of the TEAM_LEADER role: the role grants organizing, the leader
	// memberships say for which teams.
	LeadTeams []int

	// KioskID and VenueID are set when the viewer is a check-in kiosk.
	KioskID int
	VenueID int
	// BoardOnly is set for a kiosk signed in with a board token (a hall's
	// screen): it may only read what the board shows (authz.BoardMayUse).
	BoardOnly bool

	system bool
}

// Has reports whether the viewer holds role r.
func (v *Viewer) Has(r Role) bool { return v != nil && slices.Contains(v.Roles, r) }

// IsAdmin reports whether the viewer is a platform admin (or the system).
func (v *Viewer) IsAdmin() bool { return v != nil && (v.system || v.Has(Admin)) }

// IsSystem reports whether the viewer is linli itself, acting after its own
// checks (authentication, domain services, demo data).
func (v *Viewer) IsSystem() bool { return v != nil && v.system }

// IsKiosk reports whether the viewer is a kiosk device.
func (v *Viewer) IsKiosk() bool { return v != nil && v.KioskID != 0 }

// IsStaffOf reports whether the viewer may manage community cid: its
// coordinators, platform admins and the system.
func (v *Viewer) IsStaffOf(cid int) bool {
	if v == nil {
		return false
	}
	if v.IsAdmin() {
		return true
	}
	return v.KioskID == 0 && v.CommunityID == cid && v.Has(Coordinator)
}

// IsStaff reports whether the viewer is staff of their own community.
func (v *Viewer) IsStaff() bool { return v != nil && v.IsStaffOf(v.CommunityID) }

// LeadsTeams reports whether the viewer is a team leader of their own
// community who leads at least one team.
func (v *Viewer) LeadsTeams() bool {
	return v != nil && v.KioskID == 0 && v.Has(TeamLeader) && len(v.LeadTeams) > 0
}

// Leads reports whether the viewer is a team leader leading team teamID
// (nil: no team).
func (v *Viewer) Leads(teamID *int) bool {
	return teamID != nil && v.LeadsTeams() && slices.Contains(v.LeadTeams, *teamID)
}

// CanOrganize reports whether the viewer may run an activity of community
// cid organised by team teamID (nil: no team): staff of the community, or
// the leader of that team in it. Team leaders run their own team's
// activities (create, change, publish, cancel, set capacities) and nothing
// else.
func (v *Viewer) CanOrganize(cid int, teamID *int) bool {
	return v.IsStaffOf(cid) || v != nil && v.CommunityID == cid && v.Leads(teamID)
}

// IsOrganizer reports whether the viewer may run some activities of their
// own community: staff, or a leader of at least one team.
func (v *Viewer) IsOrganizer() bool { return v.IsStaff() || v.LeadsTeams() }

type ctxKey struct{}

// box holds the viewer of a request. It is mutable so that register and login
// can make the new person the viewer of the rest of their own request (their
// payload shows their own phone number unmasked).
type box struct{ v atomic.Pointer[Viewer] }

// NewContext returns ctx carrying v.
func NewContext(ctx context.Context, v *Viewer) context.Context {
	b := &box{}
	b.v.Store(v)
	return context.WithValue(ctx, ctxKey{}, b)
}

// FromContext returns the viewer of ctx, or nil when nobody is signed in.
func FromContext(ctx context.Context) *Viewer {
	if b, ok := ctx.Value(ctxKey{}).(*box); ok {
		return b.v.Load()
	}
	return nil
}

// SignIn makes v the viewer for the rest of the request carried by ctx, which
// must come from NewContext. It reports whether it could.
func SignIn(ctx context.Context, v *Viewer) bool {
	b, ok := ctx.Value(ctxKey{}).(*box)
	if ok {
		b.v.Store(v)
	}
	return ok
}

var systemViewer = &Viewer{system: true}

var systemBox = func() *box {
	b := &box{}
	b.v.Store(systemViewer)
	return b
}()

// System returns ctx acting as linli itself, bypassing privacy rules. Use it
// only after the caller's own authorization checks.
func System(ctx context.Context) context.Context { return context.WithValue(ctx, ctxKey{}, systemBox) }
