package scan

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// walkInLimiter bounds how fast one kiosk, or one staff member, registers
// walk-ins. A walk-in looks a phone number up, so a fast loop of them is
// how a device would search for numbers; at the door people come one by
// one. Buckets are kept per scanner (a kiosk or a person, never anything a
// client chooses), at most maxWalkInBuckets of them.
type walkInLimiter struct {
	every rate.Limit
	burst int
	mu    sync.Mutex
	m     map[scannerKey]*rate.Limiter
}

type scannerKey struct{ kioskID, actorID int }

// maxWalkInBuckets bounds the limiter's memory; a community has tens of
// kiosks and coordinators.
const maxWalkInBuckets = 10000

func newWalkInLimiter(perMinute float64, burst int) *walkInLimiter {
	if perMinute <= 0 {
		return nil
	}
	return &walkInLimiter{every: rate.Limit(perMinute / 60), burst: burst, m: map[scannerKey]*rate.Limiter{}}
}

// allow takes one walk-in from who's bucket; false when it is empty, or
// when the limiter is full of scanners that are all busy (it fails closed).
func (l *walkInLimiter) allow(who scanner, now time.Time) bool {
	if l == nil {
		return true
	}
	k := scannerKey{who.kioskID, who.actorID}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.m[k]
	if !ok {
		if len(l.m) >= maxWalkInBuckets {
			// A full bucket is the same as a new one: forget those.
			for key, x := range l.m {
				if x.TokensAt(now) >= float64(l.burst) {
					delete(l.m, key)
				}
			}
			if len(l.m) >= maxWalkInBuckets {
				return false
			}
		}
		b = rate.NewLimiter(l.every, l.burst)
		l.m[k] = b
	}
	return b.AllowN(now, 1)
}
