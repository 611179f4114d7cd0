package auth

// Derivations is the number of argon2id derivations run so far.
func Derivations() int64 { return derivations.Load() }

// MaxConcurrentDerivations is the most derivations seen running at once,
// and how many may.
func MaxConcurrentDerivations() (seen, allowed int64) {
	return maxInFlight.Load(), int64(cap(deriving))
}
