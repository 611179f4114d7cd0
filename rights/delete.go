package rights

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"

	"linli/apperr"
	"linli/audit"
	"linli/authz"
	"linli/ent"
	"linli/ent/consent"
	"linli/ent/homevisit"
	"linli/ent/idempotencykey"
	"linli/ent/person"
	"linli/ent/phonecode"
	"linli/ent/registration"
	"linli/ent/request"
	"linli/ent/session"
	"linli/ent/teammembership"
	"linli/ent/volunteerprofile"
	"linli/events"
	"linli/reqlog"
	"linli/store"
	"linli/viewer"
)

// Audit actions of deletions.
const (
	ActionDeleteSelf    = "person.delete_self"
	ActionDeleteByStaff = "person.delete"
)

// DeletedName is what a deleted person is called from then on, followed by
// their pseudonym.
const DeletedName = "已注销用户"

// Removed replaces free text a deleted person wrote, or that was written
// about them in their own requests.
const Removed = "（内容已随账户注销删除）"

// DeleteMyAccount deletes the viewer's own account, after they confirm it
// with their password or a code sent to their phone.
func (s *Service) DeleteMyAccount(ctx context.Context, password, code string) error {
	v := viewer.FromContext(ctx)
	if err := authz.OwnData(v); err != nil {
		return err
	}
	p, err := s.Client.Person.Get(viewer.System(ctx), v.PersonID)
	if err != nil {
		return err
	}
	if p.DeletedAt != nil {
		return apperr.New(apperr.Unauthenticated, "this account was deleted")
	}
	if err := s.Auth.Confirm(ctx, p, password, code, reqlog.ClientAddr(ctx)); err != nil {
		return err
	}
	return s.delete(ctx, p, audit.Entry{Action: ActionDeleteSelf, Detail: "deleted by the person"})
}

// DeletePerson deletes a person's account on their written request (by
// staff of the person's community; reason and the request's reference are
// audited). Anyone else is NOT_FOUND, as if there were no such person.
func (s *Service) DeletePerson(ctx context.Context, personID int, reason, writtenRequestRef string) error {
	v := viewer.FromContext(ctx)
	if v == nil {
		return apperr.New(apperr.Unauthenticated, "authentication required")
	}
	reason, writtenRequestRef = strings.TrimSpace(reason), strings.TrimSpace(writtenRequestRef)
	if reason == "" || len(reason) > 500 {
		return apperr.Invalid("reason", "reason must be 1 to 500 bytes")
	}
	if writtenRequestRef == "" || len(writtenRequestRef) > 200 {
		return apperr.Invalid("writtenRequestRef", "the reference of the person's written request must be 1 to 200 bytes")
	}
	p, err := s.Client.Person.Get(viewer.System(ctx), personID)
	if ent.IsNotFound(err) {
		return apperr.New(apperr.NotFound, "no such person")
	}
	if err != nil {
		return err
	}
	if err := authz.ActForPerson(v, p.CommunityID, p.Roles); err != nil {
		if errors.Is(err, authz.ErrUnauthenticated) {
			return apperr.New(apperr.Unauthenticated, "authentication required")
		}
		return apperr.New(apperr.NotFound, "no such person")
	}
	if p.DeletedAt != nil {
		// Already deleted: nothing changes, and no second entry.
		return nil
	}
	return s.delete(ctx, p, audit.Entry{Action: ActionDeleteByStaff, Detail: "written request " + writtenRequestRef + ": " + reason})
}

// delete anonymises p in one transaction. What stays is what the
// community's books need, under a pseudonym: the person row (so the
// registrations, check-ins, service records with their hours, requests and
// visits that reference it keep counting exactly as before), the
// VOLUNTEER role and volunteer profile (registeredVolunteers), the
// requests' kinds, times, statuses, outcomes and ratings. What goes: name,
// phone, password, birth year, every session, staff roles and team
// memberships, skills, free text they wrote (request titles, descriptions
// and notes, cancellation reasons, visit notes they recorded) and free
// text about them in their own requests, remembered answers
// (idempotency keys), pending phone codes; their name where it was copied
// into others' service records and certificates; then whatever the
// registered anonymisers remove. It cannot be undone.
func (s *Service) delete(ctx context.Context, p *ent.Person, entry audit.Entry) error {
	pseudonym, err := newPseudonym()
	if err != nil {
		return err
	}
	now := s.now()
	d := Deleted{PersonID: p.ID, CommunityID: p.CommunityID, OldName: p.DisplayName, OldPhone: p.Phone,
		Pseudonym: DeletedName + pseudonym, At: now}
	var sessions []int
	sys := viewer.System(ctx)
	err = store.InTx(sys, s.Client, store.TxOptions{Lock: s.DB.Writers()}, func(tx *ent.Tx) error {
		// The row again, inside the transaction: of two deletions at once,
		// the second finds it deleted and changes nothing.
		cur, err := tx.Person.Get(sys, p.ID)
		if err != nil {
			return err
		}
		if cur.DeletedAt != nil {
			return errAlreadyDeleted
		}
		var keep []string
		for _, r := range cur.Roles {
			if r == string(viewer.Resident) || r == string(viewer.Volunteer) {
				keep = append(keep, r)
			}
		}
		if err := tx.Person.UpdateOneID(p.ID).
			SetDisplayName(d.Pseudonym).
			// Not a phone (phones are digits): it never matches a login,
			// a walk-in or an import, and is unique like the id.
			SetPhone(fmt.Sprintf("deleted:%d", p.ID)).
			SetPasswordHash("").
			SetRoles(keep).
			ClearBirthYear().
			SetDeletedAt(now).
			Exec(sys); err != nil {
			return err
		}
		if sessions, err = tx.Session.Query().Where(session.PersonID(p.ID), session.RevokedAtIsNil()).IDs(sys); err != nil {
			return err
		}
		if _, err := tx.Session.Update().Where(session.PersonID(p.ID), session.RevokedAtIsNil()).SetRevokedAt(now).Save(sys); err != nil {
			return err
		}
		if _, err := tx.TeamMembership.Delete().Where(teammembership.PersonID(p.ID)).Exec(sys); err != nil {
			return err
		}
		if _, err := tx.VolunteerProfile.Update().Where(volunteerprofile.PersonID(p.ID)).ClearSkills().Save(sys); err != nil {
			return err
		}
		if err := s.anonymiseRequests(sys, tx, p.ID); err != nil {
			return err
		}
		if _, err := tx.Registration.Update().Where(registration.PersonID(p.ID), registration.CancelReasonNEQ("")).
			SetCancelReason("").Save(sys); err != nil {
			return err
		}
		if _, err := tx.HomeVisit.Update().Where(homevisit.RecordedByID(p.ID), homevisit.NotesNEQ("")).
			SetNotes(Removed).Save(sys); err != nil {
			return err
		}
		if _, err := tx.IdempotencyKey.Delete().Where(idempotencykey.PersonID(p.ID)).Exec(sys); err != nil {
			return err
		}
		if _, err := tx.PhoneCode.Delete().Where(phonecode.Phone(p.Phone)).Exec(sys); err != nil {
			return err
		}
		// Consents stay as the record that processing was lawful while
		// they were in force; none is in force any more.
		if _, err := tx.Consent.Update().Where(consent.PersonID(p.ID), consent.WithdrawnAtIsNil()).SetWithdrawnAt(now).Save(sys); err != nil {
			return err
		}
		if err := s.renameCopies(sys, tx, d); err != nil {
			return err
		}
		for _, name := range sortedKeys(anonymisers) {
			if err := anonymiser(name)(sys, tx, d); err != nil {
				return fmt.Errorf("rights: anonymiser %s: %w", name, err)
			}
		}
		entry.CommunityID, entry.Subject, entry.SubjectID = p.CommunityID, fmt.Sprintf("Person:%d", p.ID), &p.ID
		// The viewer of ctx acts (the person, or staff).
		return audit.Record(ctx, tx.Client(), entry)
	})
	if errors.Is(err, errAlreadyDeleted) {
		return nil
	}
	if err != nil {
		return err
	}
	// After commit: every replica forgets the person's tokens and closes
	// their live connections.
	s.Auth.ForgetPerson(p.ID)
	evs := []events.Event{{Kind: events.Person, PersonID: p.ID, CommunityID: p.CommunityID}}
	for _, id := range sessions {
		s.Auth.SessionEnded(id)
		evs = append(evs, events.Event{Kind: events.Session, SessionID: id})
	}
	s.Events.Publish(evs...)
	return nil
}

var errAlreadyDeleted = errors.New("rights: already deleted")

// anonymiseRequests replaces the free text of the person's own requests
// (title, description, resolution, every note of their history) and the
// notes they wrote on anyone's. Kinds, times, statuses, outcomes and
// ratings stay: the three rates are computed from them.
func (s *Service) anonymiseRequests(ctx context.Context, tx *ent.Tx, personID int) error {
	own := request.Or(request.SubmitterID(personID), request.CreatedByID(personID))
	if _, err := tx.Request.Update().Where(own).SetTitle(Removed).SetDescription("").Save(ctx); err != nil {
		return err
	}
	if _, err := tx.Request.Update().Where(own, request.ResolutionNotNil()).SetResolution(Removed).Save(ctx); err != nil {
		return err
	}
	// Notes are immutable to the application (history is append-only);
	// erasure is the one exception, so it is plain SQL.
	_, err := tx.ExecContext(ctx, s.DB.Rebind(`UPDATE request_events SET note = ?
WHERE note <> '' AND (actor_id = ? OR request_id IN (SELECT id FROM requests WHERE submitter_id = ? OR created_by_id = ?))`),
		Removed, personID, personID, personID)
	return err
}

// renameCopies replaces the deleted name where it was copied as text: the
// person in charge and recorder of service records, and certificates'
// holder names. A name another living person of the community shares is
// left in service records (it does not single out the deleted person, and
// replacing it would rename the other); certificates are by id.
func (s *Service) renameCopies(ctx context.Context, tx *ent.Tx, d Deleted) error {
	if _, err := tx.ExecContext(ctx, s.DB.Rebind(`UPDATE certificates SET person_name = ? WHERE person_id = ?`), d.Pseudonym, d.PersonID); err != nil {
		return err
	}
	shared, err := tx.Person.Query().Where(person.CommunityID(d.CommunityID), person.DisplayName(d.OldName), person.IDNEQ(d.PersonID)).Exist(ctx)
	if err != nil || shared || d.OldName == "" {
		return err
	}
	for _, col := range []string{"person_in_charge", "recorded_by"} {
		if _, err := tx.ExecContext(ctx, s.DB.Rebind(`UPDATE service_records SET `+col+` = ? WHERE community_id = ? AND `+col+` = ?`),
			d.Pseudonym, d.CommunityID, d.OldName); err != nil {
			return err
		}
	}
	return nil
}

// newPseudonym is 40 random bits as 8 characters (A–Z, 2–7).
func newPseudonym() (string, error) {
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base32.StdEncoding.EncodeToString(b), nil
}

// IsDeleted reports whether p's account was deleted.
func IsDeleted(p *ent.Person) bool { return p != nil && p.DeletedAt != nil }
