package signup

import (
	"context"
	"unicode/utf8"

	"entgo.io/contrib/entgql"

	"linli/apperr"
	"linli/ent"
	"linli/ent/person"
	"linli/ent/registration"
	"linli/viewer"
)

// Page is a Relay page request.
type Page struct {
	After  *entgql.Cursor[int]
	First  *int
	Before *entgql.Cursor[int]
	Last   *int
}

// MyRegistrations lists the viewer's registrations, newest first.
func (s *Service) MyRegistrations(ctx context.Context, p Page) (*ent.RegistrationConnection, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "sign in first")
	}
	if v.PersonID == 0 {
		return nil, apperr.New(apperr.Forbidden, "only a person has registrations")
	}
	return s.client.Registration.Query().Where(registration.PersonID(v.PersonID)).
		Paginate(ctx, p.After, p.First, p.Before, p.Last, ent.WithRegistrationOrder(&ent.RegistrationOrder{
			Direction: entgql.OrderDirectionDesc, Field: ent.RegistrationOrderFieldCreatedAt,
		}))
}

// Filter narrows an activity's registrations. Its fields match the GraphQL
// input ActivityRegistrationsFilter, so the resolver converts it directly.
type Filter struct {
	Status []registration.Status
	SlotID *int
	// Search matches part of the person's display name.
	Search *string
}

// ActivityRegistrations lists an activity's registrations in sign-up order,
// for staff of its community.
func (s *Service) ActivityRegistrations(ctx context.Context, activityID int, p Page, f *Filter) (*ent.RegistrationConnection, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "sign in first")
	}
	a, err := s.client.Activity.Get(ctx, activityID)
	if err != nil {
		return nil, err
	}
	if !v.IsStaffOf(a.CommunityID) {
		return nil, apperr.New(apperr.Forbidden, "only staff of the community may list its registrations")
	}
	q := s.client.Registration.Query().Where(registration.ActivityID(activityID))
	if f != nil {
		if len(f.Status) > 0 {
			q.Where(registration.StatusIn(f.Status...))
		}
		if f.SlotID != nil {
			q.Where(registration.SlotID(*f.SlotID))
		}
		if f.Search != nil && *f.Search != "" {
			if utf8.RuneCountInString(*f.Search) > 50 {
				return nil, apperr.Invalid("filter.search", "search must be at most 50 characters")
			}
			q.Where(registration.HasPersonWith(person.DisplayNameContains(*f.Search)))
		}
	}
	return q.Paginate(ctx, p.After, p.First, p.Before, p.Last)
}

// CheckInCode returns a registration's QR payload to its owner and to staff
// of its community, and nil to anyone else.
func CheckInCode(ctx context.Context, r *ent.Registration) *string {
	if !OwnsCode(viewer.FromContext(ctx), r) || r.CheckInCode == "" {
		return nil
	}
	return &r.CheckInCode
}

// OwnsCode reports whether v may see and change r's check-in code: its
// owner, or staff of its community (never a kiosk).
func OwnsCode(v *viewer.Viewer, r *ent.Registration) bool {
	return v != nil && !v.IsKiosk() && (r.PersonID == v.PersonID || v.IsStaffOf(r.CommunityID))
}
