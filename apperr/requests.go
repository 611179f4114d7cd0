package apperr

// Codes of residents' requests (package requests), kept apart from the main
// list only to spare it merge churn. An illegal transition (the request's
// status does not allow it, or another transition won the race) is
// CONFLICT; a transition the status allows but not for the viewer is
// FORBIDDEN.
const (
	// ReopenWindowClosed: the submitter tried to reopen a request resolved
	// longer ago than the reopen window (-request-reopen-days).
	ReopenWindowClosed Code = "REOPEN_WINDOW_CLOSED"
)
