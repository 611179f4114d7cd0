package apperr

// Codes of webhooks (package webhooks), kept apart from the main list only
// to spare it merge churn.
const (
	// AddressNotAllowed: a webhook URL names (or resolves to) a loopback,
	// link-local, private or unspecified address, which linli does not
	// send to unless -webhooks-allow-private is set. extensions.field is
	// "url".
	AddressNotAllowed Code = "ADDRESS_NOT_ALLOWED"
)
