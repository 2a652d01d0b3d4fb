package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
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

// ErrorCode returns the code of the first *Error in err's chain. Without
// one, an error that says a dependency is down (see Unavailable) is
// EUNAVAILABLE and anything else EINTERNAL.
func ErrorCode(err error) string {
	return AsError(err).Code
}

// UnavailableRetryAfter is how long (seconds) a caller is told to wait
// before retrying when a dependency is down.
const UnavailableRetryAfter = 5

// AsError returns the *Error in err's chain. Without one it returns a
// generic unavailable error when err says a dependency is down, and a
// generic internal error otherwise; neither message exposes the cause.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if Unavailable(err) {
		// What a caller sees never names the dependency or the cause.
		return &Error{Code: EUNAVAILABLE, Message: "the service is temporarily unavailable; try again shortly", RetryAfterSeconds: UnavailableRetryAfter}
	}
	return &Error{Code: EINTERNAL, Message: "internal error"}
}

// sqlStater is what Postgres drivers' errors implement (pgconn.PgError,
// pq.Error): the five-character SQLSTATE.
type sqlStater interface{ SQLState() string }

// Unavailable reports whether err says a dependency (the database, Redis,
// any network peer) could not be reached or did not answer in time, rather
// than refusing the operation: network errors (refused dials, resets,
// timeouts), deadlines, database/sql's broken or closed connections, a
// connection cut mid-answer (io.ErrUnexpectedEOF: what pgx returns when the
// server goes away under an open connection), and
// SQLSTATEs of class 08 (connection exception), 53 (insufficient
// resources) and 57P01-57P03 (the server shuts down or cannot take
// connections yet). It knows no driver: it looks only at standard errors
// and at the SQLState method that Postgres drivers share.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var st sqlStater
	if errors.As(err, &st) {
		switch code := st.SQLState(); {
		case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"),
			code == "57P01", code == "57P02", code == "57P03":
			return true
		}
	}
	// database/sql returns this one as an unexported errors.New value.
	return strings.Contains(err.Error(), "sql: database is closed")
}
