package apperr

// Codes of waitlist offers (package ledger, offer.go), kept apart from the
// main list only to spare it merge churn.
const (
	// OfferExpired: acceptOffer after the offer's expiry (or after it
	// lapsed); the seat has passed, or is passing, to the next in line.
	OfferExpired Code = "OFFER_EXPIRED"
)
