package scan

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	sql "entgo.io/ent/dialect/sql"

	"linli/apperr"
	"linli/ent"
	"linli/ent/activity"
	"linli/ent/checkinscan"
	"linli/ent/person"
	"linli/ent/predicate"
	"linli/ent/registration"
	"linli/ent/servicerecord"
	"linli/ent/slot"
	"linli/events"
	"linli/idem"
	"linli/ledger"
	"linli/store"
	"linli/viewer"
)

// Scan is one check-in or check-out request.
type Scan struct {
	Kind   checkinscan.Kind
	Method checkinscan.Method
	// Code is the QR payload.
	Code string
	// Nonce is chosen by the device for each scan; a retry reuses it.
	Nonce string
	// At is when the scan was made (offline scans); nil means now. Times
	// up to clockSkew in the future count as now; later ones are refused.
	At *time.Time
	// ActivityID, when set, is the activity the tablet checks in for.
	ActivityID int
	// unknown replaces the message for UNKNOWN_CODE.
	unknown string
	// subject is what the scan is about when it has no code (a walk-in, a
	// check-in by hand); see requestHash.
	subject string
}

// requestHash is what a nonce stands for: the kind of scan and what it is
// about (the code, or the walk-in's or manual check-in's input). A retry
// asks the same and gets the first answer; anything else under a used
// nonce is a CONFLICT, so a tablet never shows the answer about someone
// else. How (scanned online or uploaded later) and when are not part of
// it: a scan that failed online is retried in the next offline upload.
func (in Scan) requestHash() []byte {
	subject := in.subject
	if subject == "" {
		subject = "code:" + in.Code
	}
	return idem.Hash(string(in.Kind), subject)
}

// Result is the answer to a scan.
type Result struct {
	Status  checkinscan.Status
	Message string
	// RegistrationID is the registration the scan was about; 0 for none.
	RegistrationID int
	Nonce          string
	// Kind is what was asked (IN or OUT); At is when the scan counts as
	// made, as stored: linli's time for an online scan, the device's for
	// one it timed (offline, or by hand).
	Kind checkinscan.Kind
	At   time.Time
}

// CheckIn checks in the registration whose code was scanned.
func (s *Service) CheckIn(ctx context.Context, in Scan) (*Result, error) {
	in.Kind = In
	return s.Scan(ctx, in)
}

// CheckOut checks out the registration whose code was scanned. Checking out
// of a volunteer position records the service.
func (s *Service) CheckOut(ctx context.Context, in Scan) (*Result, error) {
	in.Kind = Out
	return s.Scan(ctx, in)
}

// Scan answers one scan by a kiosk or staff member.
func (s *Service) Scan(ctx context.Context, in Scan) (*Result, error) {
	who, err := scannerOf(ctx)
	if err != nil {
		return nil, err
	}
	in.Code = NormalizeCode(in.Code)
	if err := checkScan(in, ""); err != nil {
		return nil, err
	}
	if in.Method == "" {
		in.Method = checkinscan.MethodSCAN
	}
	// A retried nonce is not looked up first: whatever the retry decides
	// is written together with its nonce, which the database refuses, and
	// apply then answers what was stored. Scans are mostly first tries.
	now := s.now()
	at, err := scanTime(in.At, now, "at")
	if err != nil {
		return nil, err
	}
	if in.At == nil {
		// Online: read, decided and written in a batch (batch.go), unless
		// the batch hands it back.
		res, t, done, err := s.submit(ctx, who, in)
		if done {
			return res, err
		}
		return s.apply(ctx, who, in, t, at, now)
	}
	t, err := s.loadTarget(ctx, registration.CheckInCode(in.Code))
	if err != nil {
		return nil, err
	}
	return s.apply(ctx, who, in, t, at, now)
}

// checkScan validates a scan's input; prefix names the field in errors.
func checkScan(in Scan, prefix string) error {
	if in.Kind != In && in.Kind != Out {
		return apperr.Invalid(prefix+"kind", "kind must be IN or OUT")
	}
	if in.Nonce == "" || len(in.Nonce) > 100 {
		return apperr.Invalid(prefix+"nonce", "nonce must be 1 to 100 bytes")
	}
	if len(in.Code) > 100 {
		return apperr.Invalid(prefix+"code", "code must be at most 100 bytes")
	}
	return nil
}

// clockSkew is how far ahead of linli's clock a tablet's may run.
const clockSkew = 5 * time.Minute

// scanTime is when a scan counts as made: at, or now for online scans and
// for times a little in the future. A time further ahead is a tablet with
// a wrong clock (or a forged time), refused as invalid field.
func scanTime(at *time.Time, now time.Time, field string) (time.Time, error) {
	switch {
	case at == nil:
		return now, nil
	case at.After(now.Add(clockSkew)):
		return now, apperr.Invalid(field, "at is in the future: check the device's clock")
	case at.After(now):
		return now, nil
	}
	return at.UTC().Truncate(time.Microsecond), nil
}

// scannerOf is the kiosk or staff member of ctx; nobody else scans.
func scannerOf(ctx context.Context) (scanner, error) {
	v := viewer.FromContext(ctx)
	switch {
	case v == nil:
		return scanner{}, apperr.New(apperr.Unauthenticated, "authentication required")
	case v.IsKiosk():
		return scanner{kioskID: v.KioskID, venueID: v.VenueID, communityID: v.CommunityID}, nil
	case v.IsStaff() && v.PersonID != 0:
		return scanner{actorID: v.PersonID, communityID: v.CommunityID, admin: v.IsAdmin()}, nil
	}
	return scanner{}, apperr.New(apperr.Forbidden, "only kiosks and coordinators check people in")
}

// stored returns the answer already given to this device's nonce, if any:
// to a retry of the same scan. The nonce used for another scan (another
// code, another kind) is a CONFLICT.
func (s *Service) stored(ctx context.Context, who scanner, in Scan) (*Result, error) {
	q := s.client.CheckInScan.Query().Where(checkinscan.Nonce(in.Nonce))
	if who.kioskID != 0 {
		q.Where(checkinscan.KioskID(who.kioskID))
	} else {
		q.Where(checkinscan.KioskIDIsNil(), checkinscan.ActorID(who.actorID))
	}
	// As linli itself: a nonce is the scanner's own, whoever may read scans.
	sc, err := q.Only(viewer.System(ctx))
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// The scan record is the nonce's remembered answer (idem's rule). Scans
	// recorded before request hashes were kept have none: their kind decides.
	stored := sc.RequestHash
	if stored == nil {
		stored = in.requestHash()
	}
	if idem.Match(string(sc.Kind), stored, string(in.Kind), in.requestHash()) == idem.Conflict {
		return nil, nonceConflict("nonce")
	}
	res := &Result{Status: sc.Status, Message: sc.Message, Nonce: in.Nonce, Kind: in.Kind, At: sc.ScannedAt.UTC()}
	if sc.RegistrationID != nil {
		res.RegistrationID = *sc.RegistrationID
	}
	return res, nil
}

// loadTarget reads the registration where matches, with what deciding a
// scan needs of its slot, activity and person; nil when there is none. It
// is one query (a scan at the door is the hot path), joined by Ent; the
// slot, activity and person it returns hold only the fields a scan reads
// (targetRow). It reads as linli itself: which registrations a scanner
// may act on is the check-in decision's (decide), which answers another
// community's codes as unknown and another venue's as WRONG_VENUE.
func (s *Service) loadTarget(ctx context.Context, where predicate.Registration) (*target, error) {
	ts, err := loadTargets(ctx, s.client, where)
	if err != nil || len(ts) == 0 {
		return nil, err
	}
	return ts[0], nil
}

// loadTargets is loadTarget for every registration where matches, read
// through c (the client, or a batch's transaction).
func loadTargets(ctx context.Context, c *ent.Client, where predicate.Registration) ([]*target, error) {
	var rows []targetRow
	err := c.Registration.Query().Where(where).Modify(func(q *sql.Selector) {
		sl, a, p := sql.Table(slot.Table), sql.Table(activity.Table), sql.Table(person.Table)
		q.Join(sl).On(q.C(registration.FieldSlotID), sl.C(slot.FieldID)).
			Join(a).On(q.C(registration.FieldActivityID), a.C(activity.FieldID)).
			Join(p).On(q.C(registration.FieldPersonID), p.C(person.FieldID))
		q.Select(q.C(registration.FieldID), q.C(registration.FieldCheckInCode), q.C(registration.FieldPersonID), q.C(registration.FieldSlotID),
			q.C(registration.FieldActivityID), q.C(registration.FieldCommunityID), q.C(registration.FieldSeats),
			q.C(registration.FieldStatus), q.C(registration.FieldCheckedInAt), q.C(registration.FieldCheckedOutAt),
			sql.As(sl.C(slot.FieldKind), "slot_kind"), sql.As(sl.C(slot.FieldStartsAt), "slot_starts_at"),
			sql.As(sl.C(slot.FieldEndsAt), "slot_ends_at"), sql.As(a.C(activity.FieldVenueID), "venue_id"),
			sql.As(a.C(activity.FieldStatus), "activity_status"), sql.As(a.C(activity.FieldStartsAt), "starts_at"),
			sql.As(a.C(activity.FieldEndsAt), "ends_at"), sql.As(a.C(activity.FieldCheckinOpensMinutes), "checkin_opens_minutes"),
			sql.As(p.C(person.FieldDisplayName), "display_name"))
	}).Scan(viewer.System(ctx), &rows)
	if err != nil {
		return nil, err
	}
	ts := make([]*target, len(rows))
	for i, r := range rows {
		ts[i] = r.target()
	}
	return ts, nil
}

// targetRow is a row of loadTarget.
type targetRow struct {
	ID            int                 `json:"id"`
	CheckInCode   string              `json:"check_in_code"`
	PersonID      int                 `json:"person_id"`
	SlotID        int                 `json:"slot_id"`
	ActivityID    int                 `json:"activity_id"`
	CommunityID   int                 `json:"community_id"`
	Seats         int                 `json:"seats"`
	Status        registration.Status `json:"status"`
	CheckedInAt   *time.Time          `json:"checked_in_at"`
	CheckedOutAt  *time.Time          `json:"checked_out_at"`
	SlotKind      slot.Kind           `json:"slot_kind"`
	SlotStartsAt  *time.Time          `json:"slot_starts_at"`
	SlotEndsAt    *time.Time          `json:"slot_ends_at"`
	VenueID       *int                `json:"venue_id"`
	ActivityState activity.Status     `json:"activity_status"`
	StartsAt      time.Time           `json:"starts_at"`
	EndsAt        time.Time           `json:"ends_at"`
	OpensMinutes  int                 `json:"checkin_opens_minutes"`
	DisplayName   string              `json:"display_name"`
}

func (r targetRow) target() *target {
	return targetOf(&ent.Registration{
		ID: r.ID, CheckInCode: r.CheckInCode, PersonID: r.PersonID, SlotID: r.SlotID, ActivityID: r.ActivityID, CommunityID: r.CommunityID,
		Seats: r.Seats, Status: r.Status, CheckedInAt: r.CheckedInAt, CheckedOutAt: r.CheckedOutAt,
		Edges: ent.RegistrationEdges{
			Slot: &ent.Slot{ID: r.SlotID, Kind: r.SlotKind, StartsAt: r.SlotStartsAt, EndsAt: r.SlotEndsAt},
			Activity: &ent.Activity{ID: r.ActivityID, CommunityID: r.CommunityID, VenueID: r.VenueID,
				Status: r.ActivityState, StartsAt: r.StartsAt, EndsAt: r.EndsAt, CheckinOpensMinutes: r.OpensMinutes},
			Person: &ent.Person{ID: r.PersonID, DisplayName: r.DisplayName},
		},
	})
}

// apply decides a scan and writes what it decided. When the registration
// moved between the read and the write, it decides again from the new state.
func (s *Service) apply(ctx context.Context, who scanner, in Scan, t *target, at, now time.Time) (*Result, error) {
	for attempt := 0; ; attempt++ {
		o := decide(in.Kind, t, who, in.ActivityID, at, now, in.At != nil, s.rules)
		var res *Result
		var err error
		switch {
		case o.write:
			res, err = s.move(ctx, who, in, t, at, now)
		case o.earlier:
			res, err = s.moveEarlier(ctx, who, in, t, o.fallback, at, now)
		default:
			res, err = s.record(ctx, s.client, who, in, t, o.status, refusal(in, o, t), at, now)
		}
		switch {
		case errors.Is(err, errStale) && attempt < maxAttempts:
			if t, err = s.loadTarget(ctx, registration.ID(t.regID)); err != nil {
				return nil, err
			}
			continue
		case store.IsUniqueViolation(err):
			// The same nonce, concurrently: its answer is the one to give.
			if r, err := s.stored(ctx, who, in); r != nil || err != nil {
				return r, err
			}
			return nil, fmt.Errorf("checkin: nonce %q conflicted but is not stored", in.Nonce)
		}
		return res, err
	}
}

// refusal is the message of a scan that changes nothing.
func refusal(in Scan, o outcome, t *target) string {
	switch {
	case o.message != "":
		return o.message
	case o.status == UnknownCode && in.unknown != "":
		return in.unknown
	}
	return message(in.Kind, o.status, t, 0)
}

// record stores a scan's answer in check_in_scans through c (the client,
// or the transaction that made the change) and returns it.
func (s *Service) record(ctx context.Context, c *ent.Client, who scanner, in Scan, t *target, st checkinscan.Status, msg string, at, now time.Time) (*Result, error) {
	cr, res := scanRecord(c, who, in, t, st, msg, at, now)
	if err := cr.Exec(viewer.System(ctx)); err != nil {
		return nil, err
	}
	return res, nil
}

// scanRecord is the row record stores, and the answer it stands for.
func scanRecord(c *ent.Client, who scanner, in Scan, t *target, st checkinscan.Status, msg string, at, now time.Time) (*ent.CheckInScanCreate, *Result) {
	res := &Result{Status: st, Message: msg, Nonce: in.Nonce, Kind: in.Kind, At: at}
	cr := c.CheckInScan.Create().SetCommunityID(who.communityID).SetNonce(in.Nonce).SetKind(in.Kind).SetMethod(in.Method).
		SetStatus(st).SetMessage(msg).SetScannedAt(at).SetRecordedAt(now).SetRequestHash(in.requestHash())
	switch {
	case t != nil && st != UnknownCode:
		cr.SetActivityID(t.activityID).SetCommunityID(t.communityID)
		if t.regID != 0 { // a walk-in refused has no registration yet
			cr.SetRegistrationID(t.regID)
			res.RegistrationID = t.regID
		}
	case in.ActivityID != 0:
		cr.SetActivityID(in.ActivityID)
	}
	if who.kioskID != 0 {
		cr.SetKioskID(who.kioskID)
	}
	if who.actorID != 0 {
		cr.SetActorID(who.actorID)
	}
	return cr, res
}

// seat is what the ledger needs to move the registration.
func (t *target) seat() ledger.Seat {
	return ledger.Seat{RegistrationID: t.regID, ActivityID: t.activityID, SlotID: t.slotID, Seats: t.seats}
}

// move checks the registration in or out through the ledger, records the
// scan and, for a volunteer's check-out, the service record, in one
// transaction.
func (s *Service) move(ctx context.Context, who scanner, in Scan, t *target, at, now time.Time) (*Result, error) {
	var info *RecordInfo
	if in.Kind == Out && t.volunteer() {
		var err error
		if info, err = s.loadRecordInfo(ctx, who, t); err != nil {
			return nil, err
		}
	}
	var res *Result
	err := s.inTx(ctx, func(ctx context.Context, tx *ent.Tx) ([]events.Event, error) {
		move, change := s.ledger.CheckIn, registration.StatusCHECKED_IN
		if in.Kind == Out {
			move, change = s.ledger.CheckOut, registration.StatusCHECKED_OUT
		}
		moved, err := move(ctx, tx, t.seat(), at)
		if err != nil {
			return nil, err
		}
		if !moved {
			return nil, errStale
		}
		minutes := 0
		if info != nil {
			if minutes, err = s.insertRecord(ctx, tx, info, t, "", now); err != nil {
				return nil, err
			}
		}
		if res, err = s.record(ctx, tx.Client(), who, in, t, OK, message(in.Kind, OK, t, minutes), at, now); err != nil {
			return nil, err
		}
		return changeEvents(t.communityID, t.activityID, t.regID, t.personID, string(change)), nil
	})
	return res, err
}

// moveEarlier handles a scan of a registration already checked in (or
// out) that may still change it: a scan made offline earlier than the
// recorded time moves that time (the earliest scan of a code is when the
// person came, whichever kiosk uploads first), and a real check-out
// replaces one linli made itself when nobody checked out. Only the latter
// is a check-out of its own (OK); a moved time is answered fallback, so a
// person is checked in and out once however many kiosks scanned them.
// Once a volunteer's service record exists, an earlier scan no longer
// moves it: it flags the record for staff review (flagMovedRecord).
func (s *Service) moveEarlier(ctx context.Context, who scanner, in Scan, t *target, fallback checkinscan.Status, at, now time.Time) (*Result, error) {
	var res *Result
	err := s.inTx(ctx, func(ctx context.Context, tx *ent.Tx) ([]events.Event, error) {
		if err := s.ledger.LockForDoor(ctx, tx, t.activityID); err != nil {
			return nil, err
		}
		e, err := s.earlierWrites(ctx, tx, in, t, at)
		if err != nil {
			return nil, err
		}
		minutes := 0
		if e.replaced && t.volunteer() {
			if minutes, err = s.retimeRecord(ctx, tx, t, true, now); err != nil {
				return nil, err
			}
		}
		st, msg := e.answer(in.Kind, t, fallback, at, minutes)
		if res, err = s.record(ctx, tx.Client(), who, in, t, st, msg, at, now); err != nil {
			return nil, err
		}
		if !e.replaced {
			return nil, nil
		}
		return changeEvents(t.communityID, t.activityID, t.regID, t.personID, string(registration.StatusCHECKED_OUT)), nil
	})
	return res, err
}

// earlier is what moveEarlier changed: it replaced linli's own check-out,
// moved a recorded time, or flagged the service record instead.
type earlier struct{ replaced, moved, flagged bool }

// earlierWrites makes moveEarlier's changes inside tx.
func (s *Service) earlierWrites(ctx context.Context, tx *ent.Tx, in Scan, t *target, at time.Time) (e earlier, err error) {
	if in.Kind == Out {
		if e.replaced, err = s.replaceAutoCheckOut(ctx, tx, t, at); err != nil || e.replaced {
			return e, err
		}
	}
	if in.At == nil {
		return e, nil
	}
	// A service record is not moved under staff's feet: flagged.
	hasRecord := false
	if t.volunteer() {
		if hasRecord, e.flagged, err = s.flagMovedRecord(ctx, tx, t, in.Kind, at); err != nil || hasRecord {
			return e, err
		}
	}
	u := tx.Registration.Update().Where(registration.ID(t.regID))
	if in.Kind == Out {
		u.Where(registration.StatusEQ(registration.StatusCHECKED_OUT), registration.CheckedInAtLTE(at),
			registration.CheckedOutAtGT(at)).SetCheckedOutAt(at)
	} else {
		u.Where(registration.StatusIn(registration.StatusCHECKED_IN, registration.StatusCHECKED_OUT),
			registration.CheckedInAtGT(at)).SetCheckedInAt(at)
	}
	n, err := u.Save(ctx)
	e.moved = n > 0
	return e, err
}

// replaceAutoCheckOut moves the check-out linli made itself (its service
// record still flagged so, and not corrected by staff) to a real one at at.
func (s *Service) replaceAutoCheckOut(ctx context.Context, tx *ent.Tx, t *target, at time.Time) (bool, error) {
	auto, err := tx.ServiceRecord.Query().Where(servicerecord.RegistrationID(t.regID),
		servicerecord.FlagReason(autoCloseReason), servicerecord.CorrectedAtIsNil()).Exist(ctx)
	if err != nil || !auto {
		return false, err
	}
	n, err := tx.Registration.Update().Where(registration.ID(t.regID), registration.StatusEQ(registration.StatusCHECKED_OUT),
		registration.CheckedInAtLTE(at)).SetCheckedOutAt(at).Save(ctx)
	return n > 0, err
}

// answer is the status and message of a scan that moveEarlier handled.
func (e earlier) answer(kind checkinscan.Kind, t *target, fallback checkinscan.Status, at time.Time, minutes int) (checkinscan.Status, string) {
	switch {
	case e.replaced:
		return OK, message(kind, OK, t, minutes)
	case e.flagged && kind == In:
		return fallback, "已签到；离线补传的签到时间 " + clock(at) + " 与服务记录不符，已交工作人员核实"
	case e.flagged:
		return fallback, "已签退；离线补传的签退时间 " + clock(at) + " 与服务记录不符，已交工作人员核实"
	case e.moved && kind == In:
		return fallback, "已签到，签到时间按更早的扫码记为 " + clock(at)
	case e.moved:
		return fallback, "已签退，签退时间按更早的扫码记为 " + clock(at)
	}
	return fallback, message(kind, fallback, t, 0)
}

// NormalizeCode is a check-in code as linli stores it: codes are upper-case
// base32, so one typed in lower case (or with spaces around it) is the same
// code.
func NormalizeCode(code string) string {
	return strings.ToUpper(strings.TrimSpace(code))
}
