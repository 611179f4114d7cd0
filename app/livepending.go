package app

import (
	"context"
	"sync"
)

// pendingSockets bounds the websockets one client address holds open
// before they authenticate (between the upgrade and connection_init): an
// anonymous client could otherwise park thousands of sockets, each held for
// the init timeout, since the per-person cap counts only signed-in ones. A
// well-behaved client sends connection_init at once, so the bound costs a
// community centre's shared Wi-Fi nothing. Entries exist only while their
// address has sockets waiting, so the map is as small as what it guards.
type pendingSockets struct {
	limit int // 0: unbounded
	mu    sync.Mutex
	n     map[string]int
}

// pendingSlot is one waiting socket; release is idempotent.
type pendingSlot struct {
	once    sync.Once
	release func()
}

func (s *pendingSlot) done() {
	if s != nil {
		s.once.Do(s.release)
	}
}

// take reserves a waiting socket for addr, or reports false when addr
// already holds limit of them.
func (p *pendingSockets) take(addr string) (*pendingSlot, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.limit > 0 && p.n[addr] >= p.limit {
		return nil, false
	}
	p.n[addr]++
	return &pendingSlot{release: func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.n[addr]--; p.n[addr] <= 0 {
			delete(p.n, addr)
		}
	}}, true
}

// waiting is how many sockets wait for connection_init, over all addresses.
func (p *pendingSockets) waiting() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	total := 0
	for _, n := range p.n {
		total += n
	}
	return total
}

type pendingKey struct{}

func withPendingSlot(ctx context.Context, s *pendingSlot) context.Context {
	return context.WithValue(ctx, pendingKey{}, s)
}

// authenticated frees the socket's waiting slot: it now counts toward its
// person's or kiosk's cap instead.
func authenticated(ctx context.Context) {
	s, _ := ctx.Value(pendingKey{}).(*pendingSlot)
	s.done()
}
