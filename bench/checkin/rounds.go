package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"time"

	"linli/bench/load"
	"linli/linlitest"
)

// checkInFields is what the tablet asks for (-fields): the message names
// the person (masked), which is all a tablet at the door shows.
var checkInFields = "status message"

// stackRound has every kiosk check in random registrations through the
// GraphQL HTTP API until all are in; it returns check-ins per second.
func (b *bench) stackRound(kiosks int) (float64, error) {
	hc := linlitest.ConcurrentClient(kiosks)
	defer hc.CloseIdleConnections()
	url := b.srv.URL + "/graphql"
	return b.storm(kiosks, func(k int, r registration, nonce string) (bool, error) {
		body, err := linlitest.SendData(hc, url, b.kiosks[k], "mutation($in: CheckInInput!) { checkIn(input: $in) { "+checkInFields+" } }", map[string]any{"in": map[string]any{"code": r.code, "nonce": nonce}})
		if err != nil {
			return false, fmt.Errorf("check-in failed: %w", err)
		}
		return bytes.Contains(body, []byte(`"status":"OK"`)), nil
	})
}

// rawRound sends the statement a check-in by code comes down to, for the
// same registrations, as a bare program would.
func (b *bench) rawRound(ctx context.Context, kiosks int) (float64, error) {
	// Prepared, as the stack prepares it.
	q, err := b.raw.PrepareContext(ctx, rawCheckIn)
	if err != nil {
		return 0, err
	}
	defer q.Close()
	return b.storm(kiosks, func(k int, r registration, nonce string) (bool, error) {
		now := time.Now().UTC()
		var regID, personID, activityID, communityID, counted int
		var scanID sql.NullInt64
		var msg string
		// The request hash linli stores with the nonce: the same bytes' worth.
		hash := sha256.Sum256([]byte("IN\x00code:" + r.code))
		err := q.QueryRowContext(ctx, r.code, b.cid, b.venueID, 0, now, now, b.kioskIDs[k], nil, nonce, "SCAN", "签到成功：", "（", " 人）", hash[:]).
			Scan(&regID, &personID, &activityID, &communityID, &msg, &counted, &scanID)
		return err == nil && regID == r.id && counted == 1, err
	})
}

// storm runs one check-in per registration, in a random order, over kiosks
// goroutines, and returns check-ins per second. Every one must be OK.
func (b *bench) storm(kiosks int, one func(kiosk int, r registration, nonce string) (bool, error)) (float64, error) {
	order := rand.Perm(len(b.regs))
	round := time.Now().UnixNano()
	rate, ok, err := load.Storm(kiosks, len(order), func(k, i int) (bool, error) {
		return one(k, b.regs[order[i]], fmt.Sprintf("%d-%d", round, i))
	})
	if err == nil && ok != len(order) {
		err = fmt.Errorf("only %d of %d check-ins were OK", ok, len(order))
	}
	return rate, err
}
