package auth

import (
	"sync"
	"time"

	"linli/apperr"
)

// Lockout locks sign-in after repeated failed logins, without letting
// anyone lock out others at will (等保 level 2):
//
//   - Failures are counted per (phone, source address): after PairFailures
//     within Window, that pair is locked for LockFor. Someone guessing a
//     victim's password from their own address locks only themselves out;
//     the victim signs in from theirs.
//   - The phone is locked everywhere only when failures come from
//     AccountSources different addresses within Window (a distributed
//     guess), for LockFor.
//   - The code requestPhoneCode sends to the phone lifts both (unlockLogin),
//     so the owner is never locked out for long.
//
// Failures of unknown phones count alike, so a lock says nothing about
// whether a phone has an account. State is per replica and bounded (at
// most MaxEntries pairs; the oldest go first): an attacker spread over n
// replicas gets n times the attempts before a lock, still far below what
// the per-phone rate limit (-login-rate) lets through in a day. A nil
// *Lockout locks nothing.
type Lockout struct {
	PairFailures   int
	AccountSources int
	Window         time.Duration
	LockFor        time.Duration
	MaxEntries     int
	now            func() time.Time

	mu    sync.Mutex
	pairs map[pairKey]*failures
	// sources holds, per phone, the addresses whose failures count within
	// Window, and until when the phone is locked everywhere.
	phones map[string]*phoneFailures
}

type pairKey struct{ phone, addr string }

type failures struct {
	n           int
	first, last time.Time
	lockedUntil time.Time
}

type phoneFailures struct {
	sources     map[string]time.Time
	lockedUntil time.Time
}

// Defaults of a Lockout.
const (
	DefaultLockoutPairFailures   = 5
	DefaultLockoutAccountSources = 20
	DefaultLockoutWindow         = 15 * time.Minute
	DefaultLockoutDuration       = 15 * time.Minute
	defaultLockoutEntries        = 100_000
)

// NewLockout returns a Lockout locking a (phone, address) pair after
// pairFailures failures within window, a phone everywhere after failures
// from accountSources addresses, for lockFor.
func NewLockout(pairFailures, accountSources int, window, lockFor time.Duration) *Lockout {
	return &Lockout{PairFailures: pairFailures, AccountSources: accountSources, Window: window, LockFor: lockFor,
		MaxEntries: defaultLockoutEntries, now: time.Now,
		pairs: map[pairKey]*failures{}, phones: map[string]*phoneFailures{}}
}

// ErrLoginLocked is the answer to a locked sign-in.
func errLocked(until time.Time) error {
	return &apperr.Error{Code: apperr.LoginLocked,
		Message: "too many failed sign-ins: try again after " + until.UTC().Format(time.RFC3339) +
			", or unlock now with a code sent to the phone (requestPhoneCode, then unlockLogin)"}
}

// Check refuses a sign-in of phone from addr while their pair or the phone
// is locked.
func (l *Lockout) Check(phone, addr string) error {
	if l == nil {
		return nil
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if f, ok := l.pairs[pairKey{phone, addressKey(addr)}]; ok && now.Before(f.lockedUntil) {
		return errLocked(f.lockedUntil)
	}
	if p, ok := l.phones[phone]; ok && now.Before(p.lockedUntil) {
		return errLocked(p.lockedUntil)
	}
	return nil
}

// Failed counts a failed sign-in of phone from addr.
func (l *Lockout) Failed(phone, addr string) {
	if l == nil {
		return
	}
	now := l.now()
	addr = addressKey(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	k := pairKey{phone, addr}
	f, ok := l.pairs[k]
	if !ok || now.Sub(f.first) > l.Window {
		if !ok && len(l.pairs) >= l.MaxEntries {
			l.evict(now)
		}
		f = &failures{first: now}
		l.pairs[k] = f
	}
	f.n++
	f.last = now
	if f.n >= l.PairFailures {
		f.lockedUntil = now.Add(l.LockFor)
	}
	p, ok := l.phones[phone]
	if !ok {
		if len(l.phones) >= l.MaxEntries {
			l.evict(now)
		}
		p = &phoneFailures{sources: map[string]time.Time{}}
		l.phones[phone] = p
	}
	for a, at := range p.sources {
		if now.Sub(at) > l.Window {
			delete(p.sources, a)
		}
	}
	// Bounded per phone: past the threshold more sources change nothing.
	if len(p.sources) < l.AccountSources {
		p.sources[addr] = now
	} else if _, ok := p.sources[addr]; ok {
		p.sources[addr] = now
	}
	if len(p.sources) >= l.AccountSources {
		p.lockedUntil = now.Add(l.LockFor)
	}
}

// Succeeded forgets the failures of phone from addr.
func (l *Lockout) Succeeded(phone, addr string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.pairs, pairKey{phone, addressKey(addr)})
}

// Unlock lifts every lock of phone (the owner proved it with a code).
func (l *Lockout) Unlock(phone string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.phones, phone)
	for k := range l.pairs {
		if k.phone == phone {
			delete(l.pairs, k)
		}
	}
}

// evict drops what has run out, then, if the table is still full, the
// entries least recently failed. l.mu must be held.
func (l *Lockout) evict(now time.Time) {
	for k, f := range l.pairs {
		if now.Sub(f.last) > l.Window && !now.Before(f.lockedUntil) {
			delete(l.pairs, k)
		}
	}
	for k, p := range l.phones {
		if !now.Before(p.lockedUntil) {
			fresh := false
			for _, at := range p.sources {
				fresh = fresh || now.Sub(at) <= l.Window
			}
			if !fresh {
				delete(l.phones, k)
			}
		}
	}
	for len(l.pairs) >= l.MaxEntries {
		var oldest pairKey
		var at time.Time
		for k, f := range l.pairs {
			if at.IsZero() || f.last.Before(at) {
				oldest, at = k, f.last
			}
		}
		delete(l.pairs, oldest)
	}
	for len(l.phones) >= l.MaxEntries {
		for k := range l.phones {
			delete(l.phones, k)
			break
		}
	}
}

// Locks is the number of (phone, address) pairs and phones tracked.
func (l *Lockout) Locks() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pairs) + len(l.phones)
}
