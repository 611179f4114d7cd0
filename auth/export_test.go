package auth

// Derivations is the number of argon2id derivations run so far.
func Derivations() int64 { return derivations.Load() }
