package auth

import (
	"crypto/sha256"
	"net/netip"
	"sync"
	"time"

	"linli/apperr"
)

// DefaultMaxBuckets bounds the buckets a Limiter keeps (under 200 bytes each,
// so ~10 MB at most): a flood of new phone numbers or addresses cannot grow
// it further.
const DefaultMaxBuckets = 50_000

// maxKeyValue bounds the bytes of a key's value kept in memory; longer values
// (no valid phone or address is) are kept as a digest.
const maxKeyValue = 64

// Limiter bounds attempts per key (phone number, client address) with token
// buckets. A nil *Limiter allows everything.
//
// Memory is bounded twice: keys are short (callers pass validated phones,
// and anything longer than maxKeyValue is stored as a digest), and the number
// of buckets is capped. A full bucket is forgotten (it is the same as a new
// one), so the table holds only keys attempted in the last half minute or so;
// when it still reaches the cap, the fullest buckets go first. The bucket of a
// phone someone is guessing passwords for is nearly empty, so it is the last
// to go: to flush it an attacker must first drain most of the table below it,
// which costs more attempts (each through the per-address buckets) than the
// burst a flush would give back.
type Limiter struct {
	phone, addr rule
	max         int
	now         func() time.Time

	mu      sync.Mutex
	buckets map[string]bucket
	sweep   time.Time
}

// rule is the refill rate (tokens per second) and size of a kind of bucket.
type rule struct{ rate, burst float64 }

type bucket struct {
	tokens float64
	at     int64 // unix nanoseconds of tokens
	isAddr bool
}

// NewLimiter allows perMinute attempts a minute per phone and four times that
// per client address (many people share a community centre's Wi-Fi), with a
// burst of burst (×4 per address).
func NewLimiter(perMinute float64, burst int) *Limiter {
	return newLimiter(perMinute, burst, DefaultMaxBuckets, time.Now)
}

func newLimiter(perMinute float64, burst, max int, now func() time.Time) *Limiter {
	return &Limiter{
		phone:   rule{rate: perMinute / 60, burst: float64(burst)},
		addr:    rule{rate: 4 * perMinute / 60, burst: float64(4 * burst)},
		max:     max,
		now:     now,
		buckets: map[string]bucket{},
	}
}

// Allow records an attempt at op for phone from addr, refusing it with
// RATE_LIMITED when either bucket is empty. The address is checked first: an
// attempt its address may not make touches no phone's bucket. phone must be
// validated (NormalizePhone) by the caller.
func (l *Limiter) Allow(op, phone, addr string) error {
	if l == nil {
		return nil
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > time.Minute {
		l.forgetFull(now)
		l.sweep = now
	}
	refused := apperr.New(apperr.RateLimited, "too many attempts; try again in a minute")
	var addrKey, phoneKey string
	if addr != "" {
		addrKey = key(op, 'a', addressKey(addr))
		if !l.has(addrKey, true, now) {
			return refused
		}
	}
	if phone != "" {
		phoneKey = key(op, 'p', phone)
		if !l.has(phoneKey, false, now) {
			// The address pays for the refused attempt too.
			if addrKey != "" {
				l.take(addrKey, true, now)
			}
			return refused
		}
		l.take(phoneKey, false, now)
	}
	if addrKey != "" {
		l.take(addrKey, true, now)
	}
	return nil
}

// Buckets is the number of buckets held (for tests and metrics).
func (l *Limiter) Buckets() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

func (l *Limiter) rule(isAddr bool) rule {
	if isAddr {
		return l.addr
	}
	return l.phone
}

// level is the bucket's tokens at now (a missing bucket is full).
func (l *Limiter) level(k string, isAddr bool, now time.Time) float64 {
	b, ok := l.buckets[k]
	if !ok {
		return l.rule(isAddr).burst
	}
	return l.fill(b, now) * l.rule(isAddr).burst
}

// fill is the share of its burst bucket b holds at now (1: full).
func (l *Limiter) fill(b bucket, now time.Time) float64 {
	r := l.rule(b.isAddr)
	return min(1, (b.tokens+float64(now.UnixNano()-b.at)/1e9*r.rate)/r.burst)
}

func (l *Limiter) has(k string, isAddr bool, now time.Time) bool {
	return l.level(k, isAddr, now) >= 1
}

// take spends a token of k's bucket, creating it (within the cap) if new.
func (l *Limiter) take(k string, isAddr bool, now time.Time) {
	tokens := l.level(k, isAddr, now) - 1
	if _, ok := l.buckets[k]; !ok && len(l.buckets) >= l.max {
		l.evict(now)
	}
	l.buckets[k] = bucket{tokens: max(tokens, 0), at: now.UnixNano(), isAddr: isAddr}
}

// forgetFull drops the buckets that have refilled: they hold nothing a new
// bucket would not.
func (l *Limiter) forgetFull(now time.Time) {
	for k, b := range l.buckets {
		if l.fill(b, now) >= 1 {
			delete(l.buckets, k)
		}
	}
}

// evict makes room for a tenth of the cap at once (so its cost, two passes
// over the table, is shared by many inserts): full buckets first, then the
// fullest (by share of their burst), so that the emptiest, those someone is
// being held back by, stay.
func (l *Limiter) evict(now time.Time) {
	l.forgetFull(now)
	excess := len(l.buckets) - (l.max - max(1, l.max/10))
	if excess <= 0 {
		return
	}
	// Count buckets by fill in bins, find the bin where the fullest
	// excess buckets end, and drop those above it and enough of it.
	const bins = 64
	bin := func(b bucket) int { return min(bins-1, int(l.fill(b, now)*bins)) }
	var count [bins]int
	for _, b := range l.buckets {
		count[bin(b)]++
	}
	edge, above := bins-1, 0
	for ; edge > 0 && above+count[edge] < excess; edge-- {
		above += count[edge]
	}
	fromEdge := excess - above
	for k, b := range l.buckets {
		switch i := bin(b); {
		case i > edge:
			delete(l.buckets, k)
		case i == edge && fromEdge > 0:
			delete(l.buckets, k)
			fromEdge--
		}
	}
}

// key joins op, kind and value (op never holds a NUL), keeping at most maxKeyValue bytes of value
// (a longer one is replaced by its SHA-256).
func key(op string, kind byte, value string) string {
	if len(value) > maxKeyValue {
		sum := sha256.Sum256([]byte(value))
		value = string(sum[:])
	}
	return op + "\x00" + string(kind) + value
}

// addressKey is what an address is limited by: IPv4 addresses as they are,
// IPv6 addresses by their /64 (one subscriber's whole allocation, which an
// attacker could otherwise cycle through).
func addressKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.Unmap()
	if ip.Is6() {
		if p, err := ip.WithZone("").Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}
