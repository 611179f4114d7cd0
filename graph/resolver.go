// Package graph holds linli's GraphQL resolvers (thin: they call the domain
// services and Ent) and the hardened gqlgen server that serves them.
package graph

import (
	"linli/auth"
	"linli/calendar"
	"linli/certificate"
	"linli/channels"
	"linli/ent"
	"linli/hours"
	"linli/households"
	"linli/kiosk"
	"linli/ledger"
	"linli/live"
	"linli/notify"
	"linli/organize"
	"linli/pairing"
	"linli/qualify"
	"linli/requests"
	"linli/rights"
	"linli/scan"
	"linli/series"
	"linli/statistics"
	"linli/store"
	"linli/webhooks"
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
	// KioskService registers, revokes and authenticates check-in tablets.
	KioskService *kiosk.Service
	// Checkin runs check-in and check-out at the door (scans, by hand,
	// walk-ins, offline uploads, undo).
	Checkin *scan.Service
	// ServiceHours reads and corrects volunteers' service records.
	ServiceHours *hours.Service
	// Certificates issues and verifies service certificates.
	Certificates *certificate.Service
	// Pairing pairs tablets with kiosks (the /kiosk page).
	Pairing *pairing.Service
	// Requests runs residents' requests.
	Requests *requests.Service
	// Households runs communities' onboarding, households, home visits and imports.
	Households *households.Service
	// Statistics computes the community figures.
	Statistics *statistics.Service
	// Qualify keeps qualifications, slots' requirements and no-show
	// figures (team sign-ups are the Ledger's).
	Qualify *qualify.Service
	// Channels keeps the external channels' delivery log and addresses.
	Channels *channels.Service
	// Webhooks registers community webhooks and delivers to them.
	Hooks *webhooks.Service
	// Calendar makes calendar feeds (and serves them, in app's routes).
	Calendar *calendar.Service
	// Notify serves the viewer's inbox and notification preferences.
	Notify *notify.Service
	// Rights runs residents' rights: their data, corrections, deletion,
	// consents.
	Rights *rights.Service
	// Series runs recurring activities, templates and recurring sign-ups.
	Recurring *series.Service
}
