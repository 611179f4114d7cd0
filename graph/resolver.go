// Package graph holds linli's GraphQL resolvers (thin: they call the domain
// services and Ent) and the hardened gqlgen server that serves them.
package graph

import (
	"linli/auth"
	"linli/ent"
	"linli/store"
)

// Resolver is the root resolver; it holds the services resolvers call.
type Resolver struct {
	DB     *store.DB
	Client *ent.Client
	Auth   *auth.Service
}
