package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"linli/apperr"
)

// Limiter bounds attempts per key (phone number, client address) with token
// buckets. A nil *Limiter allows everything.
type Limiter struct {
	perPhone rate.Limit
	perAddr  rate.Limit
	burst    int

	mu      sync.Mutex
	buckets map[string]*bucket
	sweep   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewLimiter allows perMinute attempts a minute per phone and four times that
// per client address (many people share a community centre's Wi-Fi), with a
// burst of burst.
func NewLimiter(perMinute float64, burst int) *Limiter {
	return &Limiter{
		perPhone: rate.Limit(perMinute / 60),
		perAddr:  rate.Limit(4 * perMinute / 60),
		burst:    burst,
		buckets:  map[string]*bucket{},
	}
}

// Allow records an attempt at op for phone from addr, refusing it with
// RATE_LIMITED when either bucket is empty.
func (l *Limiter) Allow(op, phone, addr string) error {
	if l == nil {
		return nil
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(l.buckets, k)
			}
		}
		l.sweep = now
	}
	okPhone := phone == "" || l.take(op+"|p|"+phone, l.perPhone, 1, now)
	okAddr := addr == "" || l.take(op+"|a|"+addr, l.perAddr, 4, now)
	if !okPhone || !okAddr {
		return apperr.New(apperr.RateLimited, "too many attempts; try again in a minute")
	}
	return nil
}

func (l *Limiter) take(key string, r rate.Limit, burstFactor int, now time.Time) bool {
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(r, l.burst*burstFactor)}
		l.buckets[key] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}
