package channels

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// SignatureVersion prefixes every signature, so that a later scheme can be
// told apart by receivers.
const SignatureVersion = "v1"

// Sign is the signature linli puts on every body it POSTs to a gateway or
// a webhook: "v1=" and the hex HMAC-SHA256, under secret, of the Unix
// timestamp (seconds, decimal), a dot and the body. Receivers recompute it
// over the timestamp header and the raw body, compare in constant time,
// and refuse timestamps more than a few minutes old (replays).
func Sign(secret []byte, ts time.Time, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return SignatureVersion + "=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature is Sign(secret, ts, body) for the
// timestamp header value timestamp, and ts lies within tolerance of now.
// It is what a receiver does; linli's tests use it as one.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) bool {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > tolerance || d < -tolerance {
		return false
	}
	return hmac.Equal([]byte(Sign(secret, ts, body)), []byte(signature))
}
