package signup

// The SQL of the write steps, written once with ? placeholders for both
// databases (Rebind turns them into $n for PostgreSQL).

import (
	"strings"

	"linli/ent/registration"
)

// Registration statuses as stored.
const (
	stConfirmed  = "CONFIRMED"
	stWaitlisted = "WAITLISTED"
	stPending    = "PENDING_APPROVAL"
	stCancelled  = "CANCELLED"
	stCheckedIn  = "CHECKED_IN"
	stCheckedOut = "CHECKED_OUT"
	stNoShow     = "NO_SHOW"
)

// openWindow is true while an activity takes sign-ups: published, opened,
// and neither closed nor (without an explicit close) started. Parameters:
// now, now.
const openWindow = `status = 'PUBLISHED'
  AND (signup_opens_at IS NULL OR signup_opens_at <= ?)
  AND COALESCE(signup_closes_at, starts_at) > ?`

const (
	// lockActivity bumps the version of an activity's counts. As the first
	// write of every transaction that changes counters it orders them all.
	lockActivity = `UPDATE activities SET counts_version = counts_version + 1 WHERE id = ? RETURNING counts_version, community_id`

	// lockOpenActivity is lockActivity for a sign-up: it matches only while
	// the activity takes sign-ups, so a sign-up cannot slip in after a
	// cancellation committed.
	lockOpenActivity = `UPDATE activities SET counts_version = counts_version + 1
WHERE id = ? AND ` + openWindow + ` RETURNING counts_version`

	// takeSeats is the capacity guard: seats are taken only if they fit and
	// nobody is waiting for them.
	takeSeats = `UPDATE slots SET taken = taken + ?, updated_at = ?
WHERE id = ? AND taken + ? <= capacity AND waitlisted = 0`

	joinWaitlist = `UPDATE slots SET waitlisted = waitlisted + ?, updated_at = ? WHERE id = ?`
	addPending   = `UPDATE slots SET pending = pending + ?, updated_at = ? WHERE id = ?`

	insertRegistration = `INSERT INTO registrations
(created_at, updated_at, activity_id, status, seats, queue_seq, consent_sensitive_at, check_in_code, person_id, community_id, slot_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`

	insertKey = `INSERT INTO idempotency_keys (person_id, key, operation, request_hash, response, created_at)
VALUES (?, ?, ?, ?, ?, ?)`

	selectKey = `SELECT request_hash, response FROM idempotency_keys WHERE person_id = ? AND key = ? AND operation = ?`

	purgeKeys = `DELETE FROM idempotency_keys WHERE created_at < ?`

	// slotForSignUp is everything a sign-up checks before it writes.
	slotForSignUp = `SELECT s.community_id, s.activity_id, s.kind, s.max_seats_per_signup, s.requires_approval,
  s.waitlist_enabled, a.status, a.service_type, a.signup_opens_at, a.signup_closes_at, a.starts_at
FROM slots s JOIN activities a ON a.id = s.activity_id WHERE s.id = ?`

	registrationState = `SELECT status, seats, slot_id, person_id FROM registrations WHERE id = ?`

	setRegistrationStatus = `UPDATE registrations SET status = ?, updated_at = ? WHERE id = ? AND status = ?`

	cancelRegistration = `UPDATE registrations SET status = 'CANCELLED', cancelled_at = ?, cancel_reason = ?, updated_at = ?
WHERE id = ? AND status = ?`

	releaseSeats    = `UPDATE slots SET taken = taken - ?, updated_at = ? WHERE id = ?`
	leaveWaitlist   = `UPDATE slots SET waitlisted = waitlisted - ?, updated_at = ? WHERE id = ?`
	removePending   = `UPDATE slots SET pending = pending - ?, updated_at = ? WHERE id = ?`
	approveSeats    = `UPDATE slots SET taken = taken + ?, pending = pending - ?, updated_at = ? WHERE id = ? AND taken + ? <= capacity AND waitlisted = 0`
	approveWaitlist = `UPDATE slots SET waitlisted = waitlisted + ?, pending = pending - ?, updated_at = ? WHERE id = ?`
	requeue         = `UPDATE registrations SET status = 'WAITLISTED', queue_seq = ?, updated_at = ? WHERE id = ? AND status = 'PENDING_APPROVAL'`

	slotRoom  = `SELECT capacity - taken, waitlisted, waitlist_enabled FROM slots WHERE id = ?`
	slotTaken = `SELECT taken FROM slots WHERE id = ?`

	setCapacity = `UPDATE slots SET capacity = ?, updated_at = ? WHERE id = ? AND taken <= ?`

	// headOfLine lists the waiting registrations in queue order.
	headOfLine = `SELECT id, queue_seq, seats FROM registrations
WHERE slot_id = ? AND status = 'WAITLISTED' ORDER BY queue_seq, id LIMIT ?`

	// promoteSeats moves seats from the waitlist to taken, still guarded.
	promoteSeats = `UPDATE slots SET taken = taken + ?, waitlisted = waitlisted - ?, updated_at = ?
WHERE id = ? AND taken + ? <= capacity`

	// confirmPrefix confirms every waiting registration up to and including
	// (queue_seq, id) in queue order.
	confirmPrefix = `UPDATE registrations SET status = 'CONFIRMED', updated_at = ?
WHERE slot_id = ? AND status = 'WAITLISTED' AND (queue_seq < ? OR (queue_seq = ? AND id <= ?))
RETURNING id, person_id`

	// cancelActivityRegistrations and recountActivitySlots cancel an
	// activity's open registrations; attended ones (checked in or out) stay,
	// and so do the seats they took.
	cancelActivityRegistrations = `UPDATE registrations SET status = 'CANCELLED', cancelled_at = ?, cancel_reason = ?, updated_at = ?
WHERE activity_id = ? AND status IN ('CONFIRMED', 'WAITLISTED', 'PENDING_APPROVAL')
RETURNING id, person_id`

	recountActivitySlots = `UPDATE slots SET
  taken = (SELECT COALESCE(SUM(r.seats), 0) FROM registrations r
           WHERE r.slot_id = slots.id AND r.status IN ('CONFIRMED', 'CHECKED_IN', 'CHECKED_OUT')),
  waitlisted = 0, pending = 0, updated_at = ?
WHERE activity_id = ?`
)

// signUpCTE is a whole sign-up as one PostgreSQL statement. t applies the
// slot's rules to the viewer (community, seats, volunteer role, consent); a
// locks the activity while it takes sign-ups; s takes the seats if they fit
// and nobody waits; otherwise w counts the sign-up as waiting or pending; r
// inserts the registration and, with a key, k remembers the answer. s and w
// re-check their conditions on the newest row version under its lock, so
// when the snapshot was stale neither matches and the caller runs the
// statement again. A unique violation (same person, or same key) aborts all
// of it. It returns the activity (null when a rule failed), whether a
// refusal means the slot is full, and the registration made (every column,
// all null when none was).
//
// $1 slot, $2 now, $3 seats, $4 viewer's community, $5 viewer is a
// volunteer, $6 consent given, $7 check-in code, $8 person, $9 idempotency
// key (empty for none), $10 request hash.
var signUpCTE = `WITH t AS (
  SELECT sl.activity_id, sl.community_id, sl.requires_approval AS approval, sl.waitlist_enabled AS waitlist,
    act.service_type = 'HEALTH' AS health
  FROM slots sl JOIN activities act ON act.id = sl.activity_id
  WHERE sl.id = $1 AND sl.community_id = $4 AND $3 BETWEEN 1 AND sl.max_seats_per_signup
    AND (sl.kind <> 'VOLUNTEER' OR $5) AND (act.service_type <> 'HEALTH' OR $6)
), a AS (
  UPDATE activities SET counts_version = counts_version + 1
  WHERE id = (SELECT activity_id FROM t) AND status = 'PUBLISHED'
    AND (signup_opens_at IS NULL OR signup_opens_at <= $2)
    AND COALESCE(signup_closes_at, starts_at) > $2
  RETURNING counts_version
), s AS (
  UPDATE slots SET taken = taken + $3, updated_at = $2
  WHERE id = $1 AND EXISTS (SELECT 1 FROM a) AND NOT (SELECT approval FROM t)
    AND taken + $3 <= capacity AND waitlisted = 0
  RETURNING id
), w AS (
  UPDATE slots SET
    waitlisted = waitlisted + CASE WHEN (SELECT approval FROM t) THEN 0 ELSE $3 END,
    pending = pending + CASE WHEN (SELECT approval FROM t) THEN $3 ELSE 0 END,
    updated_at = $2
  WHERE id = $1 AND EXISTS (SELECT 1 FROM a) AND NOT EXISTS (SELECT 1 FROM s)
    AND ((SELECT approval FROM t) OR ((SELECT waitlist FROM t) AND (taken + $3 > capacity OR waitlisted > 0)))
  RETURNING id
), r AS (
  INSERT INTO registrations
    (created_at, updated_at, activity_id, status, seats, queue_seq, consent_sensitive_at, check_in_code, person_id, community_id, slot_id)
  SELECT $2, $2, t.activity_id,
    CASE WHEN EXISTS (SELECT 1 FROM s) THEN 'CONFIRMED' WHEN t.approval THEN 'PENDING_APPROVAL' ELSE 'WAITLISTED' END,
    $3, a.counts_version, CASE WHEN t.health THEN $2 END, $7, $8, t.community_id, $1
  FROM a, t WHERE EXISTS (SELECT 1 FROM s) OR EXISTS (SELECT 1 FROM w)
  RETURNING ` + registrationColumns + `
), k AS (
  INSERT INTO idempotency_keys (person_id, key, operation, request_hash, response, created_at)
  SELECT $8, $9::text, 'signUp', $10, convert_to(r.status || ' ' || r.id, 'UTF8'), $2 FROM r WHERE $9::text <> ''
)
SELECT (SELECT activity_id FROM t),
  (SELECT NOT approval AND NOT waitlist FROM t) AND EXISTS (SELECT 1 FROM a),
  r.* FROM (SELECT 1) AS one LEFT JOIN r ON true`

// registrationColumns are the registration's columns in Ent's order, so the
// sign-up statement returns the row it made (see ent.RegistrationRow).
var registrationColumns = strings.Join(registration.Columns, ", ")

// SignUpSQL returns the single statement a sign-up sends to PostgreSQL, for
// benchmarks that compare the whole stack with the bare statement.
func SignUpSQL() string { return signUpCTE }
