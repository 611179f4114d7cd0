package signup

import (
	"context"
	"database/sql"
	"time"

	"linli/apperr"
	"linli/ent/slot"
	"linli/store"
	"linli/viewer"
)

// slotInfo is what a sign-up checks before it writes. What may change
// concurrently (the activity's status and window) is checked again by the
// write itself.
type slotInfo struct {
	communityID, activityID int
	kind                    string
	maxSeats                int
	requiresApproval        bool
	waitlistEnabled         bool
	activityStatus          string
	serviceType             string
	opensAt, closesAt       sql.NullTime
	startsAt                time.Time
}

// loadSlot reads a slot and its activity in one query. It runs as linli
// itself; check decides what the viewer may learn about it.
func (s *Service) loadSlot(ctx context.Context, slotID int) (*slotInfo, error) {
	var i slotInfo
	ok, err := store.QueryRow(ctx, s.db.SQL, s.db.Rebind(slotForSignUp), []any{slotID},
		&i.communityID, &i.activityID, &i.kind, &i.maxSeats, &i.requiresApproval,
		&i.waitlistEnabled, &i.activityStatus, &i.serviceType, &i.opensAt, &i.closesAt, &i.startsAt)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apperr.New(apperr.NotFound, "no such slot")
	}
	if i.activityStatus == "DRAFT" || i.activityStatus == "CANCELLED" {
		// A refusal must not tell what the viewer may not read: a slot of an
		// activity hidden from them (never published, authz.ActivityVisible)
		// is no slot at all. Asked only when refusing, so sign-ups pay nothing.
		seen, err := s.client.Slot.Query().Where(slot.ID(slotID)).Exist(ctx)
		if err != nil {
			return nil, err
		}
		if !seen {
			return nil, apperr.New(apperr.NotFound, "no such slot")
		}
	}
	return &i, nil
}

// healthData reports whether signing up discloses health information
// (PIPL arts. 28–29: sensitive personal information, explicit consent).
func (i *slotInfo) healthData() bool { return i.serviceType == "HEALTH" }

// check applies the sign-up rules in the order a client can act on them.
func (i *slotInfo) check(v *viewer.Viewer, in SignUpInput, now time.Time) error {
	if v.CommunityID != i.communityID {
		if v.IsAdmin() {
			return apperr.New(apperr.Forbidden, "people sign up only in their own community")
		}
		return apperr.New(apperr.NotFound, "no such slot")
	}
	switch i.activityStatus {
	case "DRAFT":
		return apperr.New(apperr.SignupNotOpen, "this activity is not published yet")
	case "CANCELLED":
		return apperr.New(apperr.ActivityCancelled, "this activity was cancelled")
	case "COMPLETED":
		return apperr.New(apperr.SignupClosed, "this activity is over")
	}
	if i.opensAt.Valid && now.Before(i.opensAt.Time) {
		return apperr.New(apperr.SignupNotOpen, "sign-up opens at %s", i.opensAt.Time.UTC().Format(time.RFC3339))
	}
	closes := i.startsAt
	if i.closesAt.Valid {
		closes = i.closesAt.Time
	}
	if !now.Before(closes) {
		return apperr.New(apperr.SignupClosed, "sign-up closed at %s", closes.UTC().Format(time.RFC3339))
	}
	if i.kind == "VOLUNTEER" && !v.Has(viewer.Volunteer) {
		return apperr.New(apperr.NotEligible, "this position is for registered volunteers of the community")
	}
	if in.Seats < 1 || in.Seats > i.maxSeats {
		return apperr.Invalid("seats", "seats must be between 1 and %d", i.maxSeats)
	}
	if i.healthData() && !in.ConsentSensitive {
		return apperr.New(apperr.ConsentRequired,
			"this activity processes health information; signing up needs your explicit consent (consentSensitive: true)")
	}
	return nil
}
