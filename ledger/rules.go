package ledger

// The sign-up rules, each written once. The window is a Go function and an
// Ent predicate side by side, so the listing filter (graph's
// where:{openForSignup:true}), the ledger and walk-ins cannot drift apart;
// TestOpenForSignupAgrees checks the two forms against each other at every
// boundary.

import (
	"fmt"
	"strings"
	"time"

	"linli/apperr"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/predicate"
	"linli/ent/registration"
	"linli/ent/slot"
	"linli/viewer"
)

// SignupClosesAt is when an activity stops taking sign-ups: its explicit
// close when set (which may be after the start), otherwise its start.
func SignupClosesAt(a *ent.Activity) time.Time {
	if a.SignupClosesAt != nil {
		return *a.SignupClosesAt
	}
	return a.StartsAt
}

// OpenForSignup reports whether a takes sign-ups at now: published, opened
// (signup_opens_at ≤ now when set) and not yet closed (now before
// SignupClosesAt).
func OpenForSignup(a *ent.Activity, now time.Time) bool {
	return a.Status == activity.StatusPUBLISHED &&
		(a.SignupOpensAt == nil || !now.Before(*a.SignupOpensAt)) &&
		now.Before(SignupClosesAt(a))
}

// OpenForSignupWhere is OpenForSignup as an Ent predicate. Every
// comparison with a nullable column sits beside its IS NULL test, so the
// predicate is never NULL and its negation (Not) is exact.
func OpenForSignupWhere(now time.Time) predicate.Activity {
	return activity.And(
		activity.StatusEQ(activity.StatusPUBLISHED),
		activity.Or(activity.SignupOpensAtIsNil(), activity.SignupOpensAtLTE(now)),
		activity.Or(
			activity.And(activity.SignupClosesAtNotNil(), activity.SignupClosesAtGT(now)),
			activity.And(activity.SignupClosesAtIsNil(), activity.StartsAtGT(now)),
		),
	)
}

// WindowError explains why a does not take sign-ups at now, in the codes a
// client acts on; nil when OpenForSignup.
func WindowError(a *ent.Activity, now time.Time) error {
	switch a.Status {
	case activity.StatusDRAFT:
		return apperr.New(apperr.SignupNotOpen, "this activity is not published yet")
	case activity.StatusCANCELLED:
		return apperr.New(apperr.ActivityCancelled, "this activity was cancelled")
	case activity.StatusCOMPLETED:
		return apperr.New(apperr.SignupClosed, "this activity is over")
	}
	if a.SignupOpensAt != nil && now.Before(*a.SignupOpensAt) {
		return apperr.New(apperr.SignupNotOpen, "sign-up opens at %s", a.SignupOpensAt.UTC().Format(time.RFC3339))
	}
	if closes := SignupClosesAt(a); !now.Before(closes) {
		return apperr.New(apperr.SignupClosed, "sign-up closed at %s", closes.UTC().Format(time.RFC3339))
	}
	return nil
}

// HealthData reports whether signing up for a discloses health information
// (PIPL arts. 28–29: sensitive personal information, explicit consent).
func HealthData(a *ent.Activity) bool { return a.ServiceType == activity.ServiceTypeHEALTH }

// Eligible applies the slot's rules to the person signing up, in the order a
// client can act on them: the volunteer role for volunteer positions, the
// qualifications the slot requires (Qualified), the number of seats,
// consent for health activities. st is what the batch loaded of the person
// at the moment of the decision (Standing).
func Eligible(v *viewer.Viewer, a *ent.Activity, s *ent.Slot, seats int, consent bool, st Standing) error {
	if s.Kind == slot.KindVOLUNTEER && !v.Has(viewer.Volunteer) {
		return apperr.New(apperr.NotEligible, "this position is for registered volunteers of the community")
	}
	if err := Qualified(s, st); err != nil {
		return err
	}
	if seats < 1 || seats > s.MaxSeatsPerSignup {
		return apperr.Invalid("seats", "seats must be between 1 and %d", s.MaxSeatsPerSignup)
	}
	if HealthData(a) && !consent {
		return apperr.New(apperr.ConsentRequired,
			"this activity processes health information; signing up needs your explicit consent (consentSensitive: true)")
	}
	return nil
}

// Standing is what the ledger knows of a person when it decides about
// them: the qualification kinds they hold in force at that moment (of
// those the slots of the batch require) and their no-shows in the
// community's forgiveness window (when a slot of the batch has a limit).
// A batch loads the standings of all its people at once (standing.go).
type Standing struct {
	Holds   map[int]bool
	NoShows int
	// names of the kinds required, for the refusal's message
	names map[int]string
}

// Qualified is the qualification rule: a slot that requires
// qualifications takes only people who hold all of them, in force at the
// moment of the decision (sign-up, approval, walk-in); NOT_QUALIFIED
// names those missing.
func Qualified(s *ent.Slot, st Standing) error {
	var missing []string
	for _, k := range s.RequiredQualifications {
		if !st.Holds[k] {
			name := st.names[k]
			if name == "" {
				name = fmt.Sprintf("#%d", k)
			}
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return apperr.New(apperr.NotQualified, "this position requires qualifications in force: %s", strings.Join(missing, "、"))
	}
	return nil
}

// NeedsApproval is whether a sign-up that passed Eligible waits for staff
// instead of taking a seat: the slot asks for approval, or the person has
// more no-shows in the forgiveness window than the slot's no-show limit.
func NeedsApproval(s *ent.Slot, st Standing) bool {
	return s.RequiresApproval || s.NoShowLimit != nil && st.NoShows > *s.NoShowLimit
}

// Fits is the capacity rule: n more seats are confirmed only if they fit
// and nobody waits for them (nobody overtakes the line). The database
// guards the first half again (taken + n <= capacity, and the CHECK).
func Fits(s *ent.Slot, n int) bool {
	return s.Taken+n <= s.Capacity && s.Waitlisted == 0
}

// Free is how many seats of s nobody holds.
func Free(s *ent.Slot) int { return s.Capacity - s.Taken }

// MaxCapacity bounds a slot's capacity.
const MaxCapacity = 100000

// WaitlistOrder is the line: first come (queue_seq, the counts version of
// the transaction that queued the registration), first served; within one
// transaction, in arrival order (id).
func WaitlistOrder() []registration.OrderOption {
	return []registration.OrderOption{registration.ByQueueSeq(), registration.ByID()}
}

// Open are the statuses of registrations not yet attended, which
// cancelling an activity cancels.
var Open = []registration.Status{registration.StatusCONFIRMED, registration.StatusWAITLISTED, registration.StatusPENDING_APPROVAL,
	registration.StatusOFFERED}

// Held is what a registration in status holds of its slot's counters.
func Held(status registration.Status, seats int) Counts {
	switch status {
	case registration.StatusCONFIRMED, registration.StatusCHECKED_IN, registration.StatusCHECKED_OUT,
		registration.StatusOFFERED: // an offer holds its seat while it stands (offer.go)
		return Counts{Taken: seats}
	case registration.StatusWAITLISTED:
		return Counts{Waitlisted: seats}
	case registration.StatusPENDING_APPROVAL:
		return Counts{Pending: seats}
	}
	return Counts{}
}

// Neg is c given back.
func (c Counts) Neg() Counts { return Counts{-c.Taken, -c.Waitlisted, -c.Pending} }

// AheadOf matches the registrations before r in WaitlistOrder (r's place
// in the line is their number plus one).
func AheadOf(r *ent.Registration) predicate.Registration {
	return registration.And(registration.SlotID(r.SlotID), registration.StatusEQ(registration.StatusWAITLISTED),
		registration.Or(registration.QueueSeqLT(r.QueueSeq),
			registration.And(registration.QueueSeq(r.QueueSeq), registration.IDLT(r.ID))))
}
