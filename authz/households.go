package authz

import "entgo.io/ent"

// Households are read and written by staff of their community (the first
// cut; the households work refines who else may read them).
func Households() ent.Policy { return Scoped() }

// HomeVisits are read and written like Scoped rows (first cut).
func HomeVisits() ent.Policy { return Scoped() }
