package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters (RFC 9106 / OWASP minimum: 19 MiB, 2 passes, 1 lane).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns an encoded argon2id hash of password.
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key, err := derive(context.Background(), password, salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// NoPassword is the hash of an account that cannot sign in with a password
// (generated demo volunteers).
const NoPassword = "!"

// derivations counts argon2id derivations, so that a test can prove every
// login path spends the same work (timing assertions would be flaky).
var derivations atomic.Int64

// deriving admits as many derivations at once as there are CPUs: each takes
// argonMemory (19 MiB), so a login flood from many addresses costs queued
// goroutines, not a gigabyte; more at once would not finish sooner anyway.
var (
	deriving              = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))
	inFlight, maxInFlight atomic.Int64
)

// derive runs one argon2id derivation once a slot is free, or gives up
// when ctx ends first (a request past its deadline leaves the queue).
func derive(ctx context.Context, password string, salt []byte, t, mem uint32, p uint8, n uint32) ([]byte, error) {
	derivations.Add(1)
	select {
	case deriving <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-deriving }()
	now := inFlight.Add(1)
	defer inFlight.Add(-1)
	for m := maxInFlight.Load(); now > m && !maxInFlight.CompareAndSwap(m, now); m = maxInFlight.Load() {
	}
	return argon2.IDKey([]byte(password), salt, t, mem, p, n), nil
}

// CheckPassword reports whether password matches the encoded hash. It always
// runs one argon2id derivation: a hash that is not one (NoPassword, a
// malformed value) is answered false after checking against dummyHash, so an
// account without a password takes as long as a wrong password.
func CheckPassword(encoded, password string) bool {
	ok, _ := checkPassword(context.Background(), encoded, password)
	return ok
}

// checkPassword is CheckPassword that stops waiting for a derivation slot
// when ctx ends.
func checkPassword(ctx context.Context, encoded, password string) (bool, error) {
	salt, want, t, mem, p, ok := parseHash(encoded)
	if !ok {
		salt, want, t, mem, p, _ = parseHash(dummyHash)
	}
	got, err := derive(ctx, password, salt, t, mem, p, uint32(len(want)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1 && ok, nil
}

// parseHash decodes an encoded argon2id hash.
func parseHash(encoded string) (salt, key []byte, t, mem uint32, p uint8, ok bool) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &t, &p); err != nil || p == 0 || t == 0 {
		return
	}
	enc := base64.RawStdEncoding
	var err error
	if salt, err = enc.DecodeString(parts[4]); err != nil {
		return
	}
	if key, err = enc.DecodeString(parts[5]); err != nil || len(key) == 0 {
		return
	}
	return salt, key, t, mem, p, true
}

// dummyHash is checked against when there is no hash to check (unknown
// phone, no password), with the parameters of every new hash, so that login
// takes the same time whether or not an account (or its password) exists.
var dummyHash, _ = HashPassword("linli-dummy-password")
