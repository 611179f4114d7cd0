package main

// The raw side of the benchmark: what a bare program would send for a
// check-in by code, one PostgreSQL statement that finds a registration that
// may be checked in now, locks its activity, moves it, counts its seats and
// records the scan. It is the baseline only: linli decides scans in Go
// (scan/decide.go) and writes counters through package ledger.

// rawCheckIn: it finds the registration by its code (t) only if the scan
// would be OK (confirmed, this community, the kiosk's venue, the tablet's
// activity, inside the window), bumps the activity's counts_version (a),
// moves the registration (r), counts its seats (s), builds the tablet's
// message with the masked name (m) and records the scan (l).
//
// $1 code, $2 community, $3 venue (0: any), $4 activity (0: any),
// $5 scanned at, $6 now, $7 kiosk, $8 actor, $9 nonce, $10 method,
// $11 message before the name, $12 and $13 around a number of seats above 1,
// $14 request hash.
const rawCheckIn = `WITH t AS (
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
