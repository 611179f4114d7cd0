package scan

// The SQL of check-in, written once with ? placeholders for both databases.

const (
	// targetColumns is what deciding a scan needs about a registration, its
	// slot and its activity.
	targetColumns = `SELECT r.id, r.person_id, r.slot_id, r.activity_id, r.community_id, r.seats, r.status,
  r.checked_in_at, r.checked_out_at, s.kind, s.starts_at, s.ends_at,
  a.venue_id, a.status, a.starts_at, a.ends_at, a.checkin_opens_minutes, p.display_name
FROM registrations r JOIN slots s ON s.id = r.slot_id JOIN activities a ON a.id = r.activity_id
  JOIN persons p ON p.id = r.person_id`

	targetByCode = targetColumns + ` WHERE r.check_in_code = ?`
	targetByID   = targetColumns + ` WHERE r.id = ?`

	scanByKioskNonce = `SELECT kind, status, message, registration_id, request_hash, scanned_at FROM check_in_scans WHERE kiosk_id = ? AND nonce = ?`
	scanByActorNonce = `SELECT kind, status, message, registration_id, request_hash, scanned_at FROM check_in_scans
WHERE kiosk_id IS NULL AND actor_id = ? AND nonce = ?`

	insertScan = `INSERT INTO check_in_scans
(community_id, kiosk_id, actor_id, nonce, kind, method, registration_id, activity_id, status, message, scanned_at, recorded_at, request_hash)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

	// lockActivity bumps the activity's counts_version: the first write of
	// every transaction that changes counters, as in package signup.
	lockActivity = `UPDATE activities SET counts_version = counts_version + 1 WHERE id = ?`

	checkInRegistration = `UPDATE registrations SET status = 'CHECKED_IN', checked_in_at = ?, updated_at = ?
WHERE id = ? AND status = 'CONFIRMED'`
	addCheckedIn = `UPDATE slots SET checked_in = checked_in + ?, updated_at = ? WHERE id = ?`

	checkOutRegistration = `UPDATE registrations SET status = 'CHECKED_OUT', checked_out_at = ?, updated_at = ?
WHERE id = ? AND status = 'CHECKED_IN'`

	// earlierCheckIn moves a recorded check-in to an earlier scan of it
	// (offline scans arrive late): the earliest scan wins.
	earlierCheckIn = `UPDATE registrations SET checked_in_at = ?, updated_at = ?
WHERE id = ? AND status IN ('CHECKED_IN', 'CHECKED_OUT') AND checked_in_at > ?`

	// earlierCheckOut does the same for check-outs; replaceAutoCheckOut
	// replaces a check-out linli made itself when nobody checked out.
	earlierCheckOut = `UPDATE registrations SET checked_out_at = ?, updated_at = ?
WHERE id = ? AND status = 'CHECKED_OUT' AND checked_in_at <= ? AND checked_out_at > ?`
	replaceAutoCheckOut = `UPDATE registrations SET checked_out_at = ?, updated_at = ?
WHERE id = ? AND status = 'CHECKED_OUT' AND checked_in_at <= ? AND ` + autoClosed
	autoClosed = `EXISTS (SELECT 1 FROM service_records sr
  WHERE sr.registration_id = registrations.id AND sr.flag_reason = ? AND sr.corrected_at IS NULL)`

	undoCheckIn = `UPDATE registrations SET status = 'CONFIRMED', checked_in_at = NULL, updated_at = ?
WHERE id = ? AND status = 'CHECKED_IN'`
	undoCheckOut = `UPDATE registrations SET status = 'CHECKED_IN', checked_out_at = NULL, updated_at = ?
WHERE id = ? AND status = 'CHECKED_OUT'`
	subtractCheckedIn = `UPDATE slots SET checked_in = checked_in - ?, updated_at = ? WHERE id = ?`

	insertAudit = `INSERT INTO audit_entries (community_id, actor_id, action, subject, detail, at) VALUES (?, ?, ?, ?, ?, ?)`
)

// checkInCTE is a whole online check-in as one PostgreSQL statement: lock
// the activity (a), move the registration if it is still CONFIRMED (r),
// count its seats (s) and record the scan (l). When r matches nothing the
// statement writes nothing but the version bump, and the scan is decided
// again. A nonce used before aborts all of it with a unique violation.
//
// $1 activity, $2 scanned at, $3 now, $4 registration, $5 community,
// $6 kiosk, $7 actor, $8 nonce, $9 method, $10 message, $11 request hash.
const checkInCTE = `WITH a AS (
  UPDATE activities SET counts_version = counts_version + 1 WHERE id = $1 RETURNING id
), r AS (
  UPDATE registrations SET status = 'CHECKED_IN', checked_in_at = $2, updated_at = $3
  WHERE id = $4 AND status = 'CONFIRMED' AND EXISTS (SELECT 1 FROM a)
  RETURNING id, seats, slot_id
), s AS (
  UPDATE slots SET checked_in = slots.checked_in + r.seats, updated_at = $3 FROM r WHERE slots.id = r.slot_id
  RETURNING slots.id
), l AS (
  INSERT INTO check_in_scans
    (community_id, kiosk_id, actor_id, nonce, kind, method, registration_id, activity_id, status, message, scanned_at, recorded_at, request_hash)
  SELECT $5, $6, $7, $8, 'IN', $9, r.id, $1, 'OK', $10, $2, $3, $11 FROM r
  RETURNING id
)
SELECT (SELECT id FROM r), (SELECT COUNT(*) FROM s), (SELECT id FROM l)`

// checkInByCodeCTE is the common case of a check-in as one PostgreSQL
// statement, code to scan record: a scan made now (never one timed by the
// device: the rules about such times are decide's alone). It finds the
// registration by its code (t) only if the scan would be OK (confirmed,
// this community, the kiosk's venue, the tablet's activity, inside the
// window), then does what checkInCTE does. The tablet's message names the person, masked as
// mask.Name does. When t finds nothing the statement writes nothing and the
// scan is decided the long way, which gives the reason.
//
// $1 code, $2 community, $3 venue (0: any), $4 activity (0: any),
// $5 scanned at, $6 now, $7 kiosk, $8 actor, $9 nonce, $10 method,
// $11 message before the name, $12 and $13 around a number of seats above 1,
// $14 request hash.
const checkInByCodeCTE = `WITH t AS (
  SELECT r.id, r.activity_id, p.display_name
  FROM registrations r JOIN slots s ON s.id = r.slot_id JOIN activities a ON a.id = r.activity_id
    JOIN persons p ON p.id = r.person_id
  WHERE r.check_in_code = $1 AND r.status = 'CONFIRMED' AND r.community_id = $2 AND a.status <> 'CANCELLED'
    AND ($3::bigint = 0 OR a.venue_id = $3) AND ($4::bigint = 0 OR r.activity_id = $4)
    AND $5::timestamptz >= COALESCE(s.starts_at, a.starts_at) - a.checkin_opens_minutes * interval '1 minute'
    AND $5::timestamptz <= COALESCE(s.ends_at, a.ends_at)
), a AS (
  UPDATE activities SET counts_version = counts_version + 1 WHERE id = (SELECT activity_id FROM t) RETURNING id
), r AS (
  UPDATE registrations SET status = 'CHECKED_IN', checked_in_at = $5, updated_at = $6
  WHERE id = (SELECT id FROM t) AND status = 'CONFIRMED' AND EXISTS (SELECT 1 FROM a)
  RETURNING id, seats, slot_id, person_id, activity_id, community_id
), s AS (
  UPDATE slots SET checked_in = slots.checked_in + r.seats, updated_at = $6 FROM r WHERE slots.id = r.slot_id
  RETURNING slots.id
), m AS (
  SELECT r.id, r.person_id, r.activity_id, r.community_id, $11 ||
    CASE WHEN char_length(t.display_name) <= 1 THEN t.display_name
      ELSE left(t.display_name, 1) || repeat('*', least(char_length(t.display_name) - 1, 2)) END ||
    CASE WHEN r.seats > 1 THEN $12 || r.seats || $13 ELSE '' END AS message
  FROM r, t
), l AS (
  INSERT INTO check_in_scans
    (community_id, kiosk_id, actor_id, nonce, kind, method, registration_id, activity_id, status, message, scanned_at, recorded_at, request_hash)
  SELECT m.community_id, $7, $8, $9, 'IN', $10, m.id, m.activity_id, 'OK', m.message, $5, $6, $14 FROM m
  RETURNING id
)
SELECT m.id, m.person_id, m.activity_id, m.community_id, m.message, (SELECT COUNT(*) FROM s), (SELECT id FROM l) FROM m`

// CheckInSQL returns the single statement a check-in by code sends to
// PostgreSQL in the common case, for the benchmark that compares the whole
// stack with it. Its parameters are documented on checkInByCodeCTE.
func CheckInSQL() string { return checkInByCodeCTE }
