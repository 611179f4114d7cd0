package main

// The baseline: a whole sign-up as one PostgreSQL statement, as a program
// without a server layer would send it. It is the benchmark's yardstick,
// not product code (linli decides sign-ups in Go, in batches: package
// ledger).

import (
	"strings"

	"linli/ent/registration"
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
