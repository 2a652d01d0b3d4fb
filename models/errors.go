package models

import (
	"errors"
	"fmt"
)

// Error codes shared by every transport. The api package maps them to HTTP
// statuses and the realtime package to socket acknowledgements.
const (
	EINVALID      = "invalid_request"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	ESLOTTAKEN    = "slot_taken"
	ETOOLARGE     = "too_large"
	ERATELIMITED  = "rate_limited"
	EUNAVAILABLE  = "unavailable"
	EBUSY         = "busy"
	EINTERNAL     = "internal"
)

// Error is a domain error that carries a code, a message meant for people and
// optional structured details. Anything that is not an *Error is internal.
type Error struct {
	Code    string
	Message string
	Details map[string]any
	// RetryAfter tells a rate-limited caller when to try again.
	RetryAfterSeconds int
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithDetails returns a copy of e carrying details.
func (e *Error) WithDetails(details map[string]any) *Error {
	c := *e
	c.Details = details
	return &c
}

// ErrorCode returns the code of the first *Error in err's chain, or EINTERNAL.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// AsError returns the *Error in err's chain, or a generic internal error whose
// message never exposes the underlying cause.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: EINTERNAL, Message: "internal error"}
}
