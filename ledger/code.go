package ledger

import (
	"crypto/rand"
	"encoding/base32"
)

// newCheckInCode returns the QR payload of a registration: 128 random bits in
// unpadded base32 (26 characters of A–Z and 2–7, which QR codes store in
// their compact alphanumeric mode). Unguessable, so a code cannot be forged
// from another one.
func newCheckInCode() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b), nil
}

// NewCheckInCode is newCheckInCode for registrations made outside a
// sign-up (walk-ins).
func NewCheckInCode() (string, error) { return newCheckInCode() }
