// Package graph holds linli's GraphQL resolvers (thin: they call the domain
// services and Ent) and the hardened gqlgen server that serves them.
package graph

import (
	"context"

	"linli/auth"
	"linli/checkin"
	"linli/ent"
	"linli/live"
	"linli/organize"
	"linli/signup"
	"linli/statistics"
	"linli/store"
)

// Resolver is the root resolver; it holds the services resolvers call.
type Resolver struct {
	DB     *store.DB
	Client *ent.Client
	Auth   *auth.Service
	// Organize runs staff operations on activities, teams and venues.
	Organize *organize.Service
	// Live serves subscriptions.
	Live *live.Broker
	// SetSlotCapacity changes a slot's capacity (provided by the sign-up service).
	SetSlotCapacity func(ctx context.Context, slotID, capacity int) (*ent.Slot, error)
	// Signups runs sign-ups, cancellations, approvals and the waitlist.
	Signups *signup.Service
	// Checkin runs kiosks, check-in and check-out, and service hours.
	Checkin *checkin.Service
	// Statistics computes the community figures.
	Statistics *statistics.Service
}
