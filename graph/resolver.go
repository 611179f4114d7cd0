// Package graph holds linli's GraphQL resolvers (thin: they call the domain
// services and Ent) and the hardened gqlgen server that serves them.
package graph

import (
	"linli/auth"
	"linli/checkin"
	"linli/ent"
	"linli/ledger"
	"linli/live"
	"linli/organize"
	"linli/store"
)

// Resolver is the root resolver; it holds the services resolvers call,
// each built once by app with its dependencies (one literal, never changed
// afterwards).
type Resolver struct {
	DB     *store.DB
	Client *ent.Client
	Auth   *auth.Service
	// Organize runs staff operations on activities, teams and venues.
	Organize *organize.Service
	// Live serves subscriptions.
	Live *live.Broker
	// Ledger runs sign-ups, cancellations, approvals, the waitlist and
	// capacity changes: every change to seat counters.
	Ledger *ledger.Ledger
	// Checkin runs kiosks, check-in and check-out, and service hours.
	Checkin *checkin.Service
}
