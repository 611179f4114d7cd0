package series

import (
	"context"
	"strconv"
	"time"

	"linli/apperr"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/person"
	"linli/ent/registration"
	"linli/ent/series"
	"linli/ent/slot"
	"linli/ent/standingsignup"
	"linli/idem"
	"linli/ledger"
	"linli/store"
	"linli/viewer"
)

// Booking is what a recurring sign-up did for one occurrence: a
// registration, or the refusal the ledger gave (full, already registered,
// not eligible …), which does not stop the others.
type Booking struct {
	ActivityID   int
	Registration *ent.Registration
	Refusal      *apperr.Error
}

// StandingResult is a recurring sign-up and what it booked.
type StandingResult struct {
	Standing *ent.StandingSignup
	Bookings []Booking
}

const opRecurring = "signUpRecurring"

// DefaultStandingCap is a slot position's cap when the series sets none:
// half its capacity, at least 1, so newcomers still find seats.
func DefaultStandingCap(capacity int) int { return max(capacity/2, 1) }

// SignUpRecurring signs the viewer up for slot position of every future
// occurrence of series id: each booked through ledger.SignUp (capacity,
// window, eligibility as any sign-up), and occurrences made later are
// booked as they are made. At most the series' cap of standing sign-ups
// per position (CAPACITY_FULL beyond).
func (s *Service) SignUpRecurring(ctx context.Context, seriesID, position int, key string) (*StandingResult, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.PersonID == 0 || v.IsKiosk() {
		return nil, apperr.New(apperr.Unauthenticated, "sign in to sign up")
	}
	if err := idem.Validate("idempotencyKey", key); err != nil {
		return nil, err
	}
	hash := idem.Hash(opRecurring, seriesID, position)
	if key != "" {
		o, answer, err := idem.Check(ctx, s.client.IdempotencyKey, "idempotencyKey", opRecurring, v.PersonID, key, hash)
		if err != nil {
			return nil, err
		}
		if o == idem.Replay {
			id, _ := strconv.Atoi(string(answer))
			return s.standingResult(ctx, id, nil)
		}
	}
	se, err := s.get(ctx, seriesID)
	if err != nil {
		return nil, err
	}
	if !se.RecurringSignup || se.CancelledFrom != nil {
		return nil, apperr.New(apperr.Forbidden, "this series takes no recurring sign-ups")
	}
	if position < 0 || position >= len(se.Slots) {
		return nil, apperr.Invalid("position", "position must name a slot of the series (0 to %d)", len(se.Slots)-1)
	}
	cap := DefaultStandingCap(se.Slots[position].Capacity)
	if se.StandingCap != nil {
		cap = *se.StandingCap
	}
	sys := viewer.System(ctx)
	var st *ent.StandingSignup
	err = store.InTx(ctx, s.client, store.TxOptions{}, func(tx *ent.Tx) error {
		// Writing the series row first serialises the standing sign-ups of
		// one series (a row lock; SQLite's one writer), so two cannot both
		// pass the cap.
		if err := tx.Series.UpdateOneID(se.ID).SetUpdatedAt(time.Now().UTC()).Exec(sys); err != nil {
			return err
		}
		old, err := tx.StandingSignup.Query().Where(standingsignup.SeriesID(se.ID),
			standingsignup.PersonID(v.PersonID), standingsignup.Position(position)).Only(sys)
		if err != nil && !ent.IsNotFound(err) {
			return err
		}
		if old != nil && old.CancelledAt == nil {
			return apperr.New(apperr.AlreadyRegistered, "you already signed up for every occurrence of this slot")
		}
		n, err := tx.StandingSignup.Query().Where(standingsignup.SeriesID(se.ID), standingsignup.Position(position),
			standingsignup.CancelledAtIsNil()).Count(sys)
		if err != nil {
			return err
		}
		if n >= cap {
			return apperr.New(apperr.CapacityFull, "this slot has its %d recurring sign-ups; sign up for single occurrences", cap)
		}
		if old != nil {
			st, err = tx.StandingSignup.UpdateOne(old).ClearCancelledAt().ClearBookedUntil().Save(sys)
		} else {
			st, err = tx.StandingSignup.Create().SetCommunityID(se.CommunityID).SetSeriesID(se.ID).
				SetPersonID(v.PersonID).SetPosition(position).Save(sys)
		}
		if err != nil {
			return err
		}
		if key != "" {
			return idem.Remember(ctx, tx, opRecurring, v.PersonID, key, hash, []byte(strconv.Itoa(st.ID)))
		}
		return nil
	})
	if store.IsUniqueViolation(err) {
		err = apperr.New(apperr.AlreadyRegistered, "you already signed up for every occurrence of this slot")
	}
	if err != nil {
		return nil, err
	}
	bookings, err := s.book(ctx, v, se, st)
	if err != nil {
		return nil, err
	}
	return s.standingResult(ctx, st.ID, bookings)
}

// standingResult is standing sign-up id with bookings, or (nil: a replay)
// with its registrations in future occurrences.
func (s *Service) standingResult(ctx context.Context, id int, bookings []Booking) (*StandingResult, error) {
	st, err := s.client.StandingSignup.Get(viewer.System(ctx), id)
	if err != nil {
		return nil, err
	}
	if bookings == nil {
		regs, err := s.standingRegistrations(ctx, st, s.now())
		if err != nil {
			return nil, err
		}
		for _, r := range regs {
			bookings = append(bookings, Booking{ActivityID: r.Edges.Slot.ActivityID, Registration: r})
		}
	}
	return &StandingResult{Standing: st, Bookings: bookings}, nil
}

// book signs st's person up for its position in every occurrence after
// its booked_until, as that person, and moves booked_until on. An
// occurrence whose sign-up has not opened yet stops it there (the job
// comes back); other refusals are reported and passed.
func (s *Service) book(ctx context.Context, v *viewer.Viewer, se *ent.Series, st *ent.StandingSignup) ([]Booking, error) {
	sys := viewer.System(ctx)
	q := s.client.Activity.Query().Where(activity.SeriesID(se.ID), activity.StatusEQ(activity.StatusPUBLISHED),
		activity.StartsAtGT(s.now())).
		WithSlots(func(q *ent.SlotQuery) { q.Where(slot.SeriesPosition(st.Position)) }).
		Order(ent.Asc(activity.FieldOccurrenceAt))
	if st.BookedUntil != nil {
		q.Where(activity.OccurrenceAtGT(*st.BookedUntil))
	}
	occs, err := q.All(sys)
	if err != nil {
		return nil, err
	}
	as := viewer.NewContext(ctx, v)
	bookings := []Booking{}
	var until *time.Time
	for _, a := range occs {
		if len(a.Edges.Slots) == 0 {
			continue
		}
		res, err := s.ledger.SignUp(as, ledger.SignUpInput{SlotID: a.Edges.Slots[0].ID, Seats: 1})
		b := Booking{ActivityID: a.ID}
		if err != nil {
			e, ok := apperr.As(err)
			if !ok {
				return bookings, err
			}
			if e.Code == apperr.SignupNotOpen {
				break
			}
			b.Refusal = e
		} else {
			b.Registration = res.Registration
		}
		bookings = append(bookings, b)
		until = a.OccurrenceAt
	}
	if until != nil {
		if err := s.client.StandingSignup.UpdateOneID(st.ID).SetBookedUntil(*until).Exec(sys); err != nil {
			return bookings, err
		}
	}
	return bookings, nil
}

// bookStanding books every standing sign-up of series id on the
// occurrences made since (the job, after materialising).
func (s *Service) bookStanding(ctx context.Context, id int) (int, error) {
	sys := viewer.System(ctx)
	se, err := s.client.Series.Get(sys, id)
	if err != nil {
		return 0, err
	}
	sts, err := s.client.StandingSignup.Query().Where(standingsignup.SeriesID(id), standingsignup.CancelledAtIsNil()).All(sys)
	if err != nil || len(sts) == 0 {
		return 0, err
	}
	n := 0
	for _, st := range sts {
		p, err := s.client.Person.Query().Where(person.ID(st.PersonID)).Only(sys)
		if ent.IsNotFound(err) {
			continue
		}
		if err != nil {
			return n, err
		}
		roles := make([]viewer.Role, len(p.Roles))
		for i, r := range p.Roles {
			roles[i] = viewer.Role(r)
		}
		bs, err := s.book(ctx, &viewer.Viewer{PersonID: p.ID, CommunityID: p.CommunityID, Roles: roles}, se, st)
		if err != nil {
			return n, err
		}
		n += len(bs)
	}
	return n, nil
}

// standingRegistrations are st's person's live registrations in its
// position of occurrences starting after now.
func (s *Service) standingRegistrations(ctx context.Context, st *ent.StandingSignup, now time.Time) ([]*ent.Registration, error) {
	return s.client.Registration.Query().Where(registration.PersonID(st.PersonID),
		registration.StatusIn(registration.StatusCONFIRMED, registration.StatusWAITLISTED, registration.StatusPENDING_APPROVAL),
		registration.HasSlotWith(slot.SeriesPosition(st.Position),
			slot.HasActivityWith(activity.SeriesID(st.SeriesID), activity.StartsAtGT(now)))).
		WithSlot().Order(ent.Asc(registration.FieldID)).All(viewer.System(ctx))
}

// CancelRecurring ends the viewer's recurring sign-up for slot position of
// series id and cancels its registrations in every future occurrence
// (each through ledger.Cancel). It answers how many were cancelled.
func (s *Service) CancelRecurring(ctx context.Context, seriesID, position int) (int, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.PersonID == 0 {
		return 0, apperr.New(apperr.Unauthenticated, "sign in to cancel")
	}
	if _, err := s.get(ctx, seriesID); err != nil {
		return 0, err
	}
	sys := viewer.System(ctx)
	st, err := s.client.StandingSignup.Query().Where(standingsignup.SeriesID(seriesID),
		standingsignup.PersonID(v.PersonID), standingsignup.Position(position), standingsignup.CancelledAtIsNil()).Only(sys)
	if ent.IsNotFound(err) {
		return 0, apperr.New(apperr.NotFound, "no recurring sign-up for this slot")
	}
	if err != nil {
		return 0, err
	}
	if err := s.client.StandingSignup.UpdateOneID(st.ID).SetCancelledAt(s.now()).Exec(sys); err != nil {
		return 0, err
	}
	regs, err := s.standingRegistrations(ctx, st, s.now())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range regs {
		if _, err := s.ledger.Cancel(ctx, r.ID, "recurring sign-up cancelled"); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// MyStanding lists the viewer's recurring sign-ups in force.
func (s *Service) MyStanding(ctx context.Context) ([]*ent.StandingSignup, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.PersonID == 0 {
		return nil, apperr.New(apperr.Unauthenticated, "sign in")
	}
	return s.client.StandingSignup.Query().Where(standingsignup.PersonID(v.PersonID), standingsignup.CancelledAtIsNil(),
		standingsignup.HasSeriesWith(series.CancelledFromIsNil())).
		Order(ent.Asc(standingsignup.FieldID)).Limit(MaxListed).All(viewer.System(ctx))
}
