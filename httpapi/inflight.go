package httpapi

import "sync"

// perAddress bounds what one client address holds in flight at once (its
// upload bodies): a small semaphore per address, in a map whose entries
// exist only while their address holds a slot, and which holds at most
// maxKeys addresses (beyond that every new address is refused too, so a
// flood of addresses cannot grow it).
type perAddress struct {
	limit, maxKeys int // limit 0: unbounded
	mu             sync.Mutex
	n              map[string]int
}

func newPerAddress(limit, maxKeys int) *perAddress {
	return &perAddress{limit: limit, maxKeys: maxKeys, n: map[string]int{}}
}

// take reserves a slot for addr; release frees it (call it once).
func (p *perAddress) take(addr string) (release func(), ok bool) {
	if p == nil || p.limit <= 0 {
		return func() {}, true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	held := p.n[addr]
	if held >= p.limit || (held == 0 && p.maxKeys > 0 && len(p.n) >= p.maxKeys) {
		return nil, false
	}
	p.n[addr] = held + 1
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.n[addr]--; p.n[addr] <= 0 {
				delete(p.n, addr)
			}
		})
	}, true
}
