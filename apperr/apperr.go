// Package apperr is linli's one error vocabulary. Domain services return
// *Error values; the GraphQL presenter turns them (and Ent's errors) into
// GraphQL errors whose extensions.code clients branch on.
package apperr

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error code.
type Code string

// The codes documented in the API.
const (
	Unauthenticated  Code = "UNAUTHENTICATED"
	Forbidden        Code = "FORBIDDEN"
	NotFound         Code = "NOT_FOUND"
	ValidationFailed Code = "VALIDATION_FAILED"
	Conflict         Code = "CONFLICT"
	RateLimited      Code = "RATE_LIMITED"
	QueryTooComplex  Code = "QUERY_TOO_COMPLEX"
	// Timeout: the request ran past its deadline. Its effect, if any, is
	// unknown to the client: retry with the same idempotency key.
	Timeout Code = "TIMEOUT"
	// Unavailable: the database could not be reached or is overloaded;
	// retry later, with the same idempotency key.
	Unavailable Code = "UNAVAILABLE"
	Internal    Code = "INTERNAL"

	SignupNotOpen     Code = "SIGNUP_NOT_OPEN"
	SignupClosed      Code = "SIGNUP_CLOSED"
	ActivityCancelled Code = "ACTIVITY_CANCELLED"
	AlreadyRegistered Code = "ALREADY_REGISTERED"
	CapacityFull      Code = "CAPACITY_FULL"
	NotEligible       Code = "NOT_ELIGIBLE"
	ConsentRequired   Code = "CONSENT_REQUIRED"
	// NotQualified: the slot requires qualifications the person does not
	// hold in force (package qualify, ledger.Qualified).
	NotQualified Code = "NOT_QUALIFIED"
	// LoginLocked: too many failed sign-ins of this phone from this
	// address (or from many): wait, or unlock with a code sent to the
	// phone (auth.Lockout).
	LoginLocked Code = "LOGIN_LOCKED"
)

// Error is an error a client may see.
type Error struct {
	Code    Code
	Message string
	// Field names the offending input field for VALIDATION_FAILED.
	Field string
	// Err is the cause, kept for logs; never shown to clients.
	Err error
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with code and message.
func New(code Code, format string, a ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, a...)}
}

// Invalid returns a VALIDATION_FAILED error about field.
func Invalid(field, format string, a ...any) *Error {
	return &Error{Code: ValidationFailed, Field: field, Message: fmt.Sprintf(format, a...)}
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
