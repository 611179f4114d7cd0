package apperr

// Codes of paper sign-in sheets (package scan, backentry.go), kept apart
// from the main list only to spare it merge churn.
const (
	// BackEntryWindowClosed: recordAttendance for an activity that has not
	// ended yet (manualCheckIn is for that) or ended longer ago than the
	// back-entry window (-back-entry-days).
	BackEntryWindowClosed Code = "BACK_ENTRY_WINDOW_CLOSED"
)

// Codes of service time (package hours, overlap.go).
const (
	// ServiceTimeOverlap: a home visit would give a volunteer service time
	// overlapping a service record they already have.
	ServiceTimeOverlap Code = "SERVICE_TIME_OVERLAP"
)
