package ent

// Available is how many seats of the slot are still free: capacity minus
// taken, never negative. It is a plain method (not a resolver) so that gqlgen
// computes it inline instead of starting a goroutine per slot.
func (s *Slot) Available() int { return max(s.Capacity-s.Taken, 0) }
