package scan

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"linli/apperr"
	"linli/ent/checkinscan"
	"linli/events"
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
	h := sha256.Sum256([]byte(string(in.Kind) + "\x00" + subject))
	return h[:]
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
	// The one-statement check-in is for scans made now at the door; a time
	// given by the device (offline, by hand) is weighed by decide alone.
	if in.Kind == In && in.At == nil && s.single && !who.admin {
		res, err := s.checkInByCode(ctx, who, in, at, now)
		if store.IsUniqueViolation(err) {
			if res, err = s.stored(ctx, who, in); res == nil && err == nil {
				err = fmt.Errorf("checkin: nonce %q conflicted but is not stored", in.Nonce)
			}
			return res, err
		}
		if res != nil || err != nil {
			return res, err
		}
	}
	t, err := s.loadTarget(ctx, targetByCode, in.Code)
	if err != nil {
		return nil, err
	}
	return s.apply(ctx, who, in, t, at, now)
}

// checkInByCode is the common check-in in one statement (PostgreSQL); nil
// when the scan is not a plain OK and must be decided the long way.
func (s *Service) checkInByCode(ctx context.Context, who scanner, in Scan, at, now time.Time) (*Result, error) {
	stmt, err := s.prepared(ctx, checkInByCodeCTE)
	if err != nil {
		return nil, err
	}
	var regID, personID, activityID, communityID, counted int
	var scanID sql.NullInt64
	var msg string
	err = stmt.QueryRowContext(ctx, in.Code, who.communityID, who.venueID, in.ActivityID, at, now,
		nullID(who.kioskID), nullID(who.actorID), in.Nonce, in.Method, okPrefix, seatsOpen, seatsClose, in.requestHash()).
		Scan(&regID, &personID, &activityID, &communityID, &msg, &counted, &scanID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if counted != 1 || !scanID.Valid {
		return nil, fmt.Errorf("checkin: statement checked in registration %d but counted %d", regID, counted)
	}
	s.publish(changeEvents(communityID, activityID, regID, personID, "CHECKED_IN")...)
	return &Result{Status: OK, Message: msg, RegistrationID: regID, Nonce: in.Nonce, Kind: in.Kind, At: at}, nil
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
	query, args := scanByKioskNonce, []any{who.kioskID, in.Nonce}
	if who.kioskID == 0 {
		query, args = scanByActorNonce, []any{who.actorID, in.Nonce}
	}
	var k, st, msg string
	var reg sql.NullInt64
	var hash []byte
	var at time.Time
	ok, err := s.one(ctx, s.db.SQL, query, args, &k, &st, &msg, &reg, &hash, &at)
	if err != nil || !ok {
		return nil, err
	}
	// Scans recorded before request hashes were kept have none.
	if checkinscan.Kind(k) != in.Kind || hash != nil && !bytes.Equal(hash, in.requestHash()) {
		return nil, &apperr.Error{Code: apperr.Conflict, Field: "nonce", Message: "this nonce was used for a different scan"}
	}
	return &Result{Status: checkinscan.Status(st), Message: msg, RegistrationID: int(reg.Int64), Nonce: in.Nonce,
		Kind: in.Kind, At: at.UTC()}, nil
}

// loadTarget reads a registration for a scan; nil when there is none.
func (s *Service) loadTarget(ctx context.Context, query string, arg any) (*target, error) {
	stmt, err := s.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	t := &target{}
	err = stmt.QueryRowContext(ctx, arg).Scan(t.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return t, nil
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
			msg := message(in.Kind, o.status, t, 0)
			switch {
			case o.message != "":
				msg = o.message
			case o.status == UnknownCode && in.unknown != "":
				msg = in.unknown
			}
			res, err = s.record(ctx, s.db.SQL, who, in, t, o.status, msg, at, now)
		}
		switch {
		case errors.Is(err, errStale) && attempt < maxAttempts:
			if t, err = s.loadTarget(ctx, targetByID, t.regID); err != nil {
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

// record stores a scan's answer in check_in_scans through q (the database,
// or the transaction that made the change) and returns it.
func (s *Service) record(ctx context.Context, q store.Querier, who scanner, in Scan, t *target, st checkinscan.Status, msg string, at, now time.Time) (*Result, error) {
	var regID, activityID any
	cid := who.communityID
	res := &Result{Status: st, Message: msg, Nonce: in.Nonce, Kind: in.Kind, At: at}
	if t != nil && st != UnknownCode {
		regID, activityID, cid = nullID(t.regID), t.activityID, t.communityID
		res.RegistrationID = t.regID
	} else if in.ActivityID != 0 {
		activityID = in.ActivityID
	}
	if _, err := s.exec(ctx, q, insertScan, cid, nullID(who.kioskID), nullID(who.actorID), in.Nonce,
		in.Kind, in.Method, regID, activityID, st, msg, at, now, in.requestHash()); err != nil {
		return nil, err
	}
	return res, nil
}

func nullID(id int) any {
	if id == 0 {
		return nil
	}
	return id
}

// move checks the registration in or out: one statement on PostgreSQL for
// a check-in, otherwise a transaction.
func (s *Service) move(ctx context.Context, who scanner, in Scan, t *target, at, now time.Time) (*Result, error) {
	if in.Kind == In && s.single {
		return s.checkInStatement(ctx, who, in, t, at, now)
	}
	var info *recordInfo
	if in.Kind == Out && t.volunteer() {
		var err error
		if info, err = s.loadRecordInfo(ctx, who, t); err != nil {
			return nil, err
		}
	}
	var res *Result
	err := s.inTx(ctx, func(tx *sql.Tx) ([]events.Event, error) {
		if _, err := s.exec(ctx, tx, lockActivity, t.activityID); err != nil {
			return nil, err
		}
		stmt, change := checkInRegistration, "CHECKED_IN"
		if in.Kind == Out {
			stmt, change = checkOutRegistration, "CHECKED_OUT"
		}
		n, err := s.exec(ctx, tx, stmt, at, now, t.regID)
		if err != nil {
			return nil, err
		}
		if n != 1 {
			return nil, errStale
		}
		minutes := 0
		if in.Kind == In {
			if _, err := s.exec(ctx, tx, addCheckedIn, t.seats, now, t.slotID); err != nil {
				return nil, err
			}
		} else if info != nil {
			if minutes, err = s.insertRecord(ctx, tx, info, t, "", now); err != nil {
				return nil, err
			}
		}
		if res, err = s.record(ctx, tx, who, in, t, OK, message(in.Kind, OK, t, minutes), at, now); err != nil {
			return nil, err
		}
		return changeEvents(t.communityID, t.activityID, t.regID, t.personID, change), nil
	})
	return res, err
}

// checkInStatement is move for a check-in as the single statement
// checkInCTE.
func (s *Service) checkInStatement(ctx context.Context, who scanner, in Scan, t *target, at, now time.Time) (*Result, error) {
	msg := message(In, OK, t, 0)
	var regID, scanID sql.NullInt64
	var counted int
	stmt, err := s.prepared(ctx, checkInCTE)
	if err != nil {
		return nil, err
	}
	err = stmt.QueryRowContext(ctx, t.activityID, at, now, t.regID, t.communityID,
		nullID(who.kioskID), nullID(who.actorID), in.Nonce, in.Method, msg, in.requestHash()).Scan(&regID, &counted, &scanID)
	if err != nil {
		return nil, err
	}
	if !regID.Valid {
		return nil, errStale
	}
	if counted != 1 || !scanID.Valid {
		return nil, fmt.Errorf("checkin: statement checked in registration %d but counted %d", t.regID, counted)
	}
	s.publish(changeEvents(t.communityID, t.activityID, t.regID, t.personID, "CHECKED_IN")...)
	return &Result{Status: OK, Message: msg, RegistrationID: t.regID, Nonce: in.Nonce, Kind: in.Kind, At: at}, nil
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
	err := s.inTx(ctx, func(tx *sql.Tx) ([]events.Event, error) {
		if _, err := s.exec(ctx, tx, lockActivity, t.activityID); err != nil {
			return nil, err
		}
		var replaced, moved int64
		var hasRecord, flagged bool
		var err error
		if in.Kind == Out {
			replaced, err = s.exec(ctx, tx, replaceAutoCheckOut, at, now, t.regID, at, autoCloseReason)
		}
		if err == nil && replaced == 0 && in.At != nil {
			// A service record is not moved under staff's feet: flagged.
			if t.volunteer() {
				hasRecord, flagged, err = s.flagMovedRecord(ctx, tx, t, string(in.Kind), at, now)
			}
			if err == nil && !hasRecord {
				stmt, args := earlierCheckIn, []any{at, now, t.regID, at}
				if in.Kind == Out {
					stmt, args = earlierCheckOut, []any{at, now, t.regID, at, at}
				}
				moved, err = s.exec(ctx, tx, stmt, args...)
			}
		}
		if err != nil {
			return nil, err
		}
		st, minutes := fallback, 0
		if replaced > 0 && t.volunteer() {
			if minutes, err = s.retimeRecord(ctx, tx, t, true, now); err != nil {
				return nil, err
			}
		}
		msg := message(in.Kind, fallback, t, 0)
		switch {
		case replaced > 0:
			st, msg = OK, message(in.Kind, OK, t, minutes)
		case flagged && in.Kind == In:
			msg = "已签到；离线补传的签到时间 " + clock(at) + " 与服务记录不符，已交工作人员核实"
		case flagged:
			msg = "已签退；离线补传的签退时间 " + clock(at) + " 与服务记录不符，已交工作人员核实"
		case moved > 0 && in.Kind == In:
			msg = "已签到，签到时间按更早的扫码记为 " + clock(at)
		case moved > 0:
			msg = "已签退，签退时间按更早的扫码记为 " + clock(at)
		}
		if res, err = s.record(ctx, tx, who, in, t, st, msg, at, now); err != nil {
			return nil, err
		}
		if replaced == 0 {
			return nil, nil
		}
		return changeEvents(t.communityID, t.activityID, t.regID, t.personID, "CHECKED_OUT"), nil
	})
	return res, err
}
