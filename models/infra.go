package models

import (
	"context"
	"io"
	"time"
)

// What the domain needs from infrastructure, declared here and implemented
// by the sibling packages named after what they wrap (password, token,
// ratelimit, files).

// PasswordHasher hashes and verifies passwords. Hashing is expensive, so
// both may answer EUNAVAILABLE when too many run at once.
type PasswordHasher interface {
	// Hash returns an encoded hash of password.
	Hash(ctx context.Context, password string) (string, error)
	// Verify reports whether password matches hash. An empty hash costs as
	// much time as a real comparison and fails.
	Verify(ctx context.Context, password, hash string) (bool, error)
	// IsCommon reports whether password is on a list of common passwords.
	IsCommon(password string) bool
}

// AccessClaims are what a verified access token says.
type AccessClaims struct {
	UserID  string
	Role    Role
	TokenID string
	// SessionID is the sign-in session (refresh-token family) the token
	// was issued for; empty for tokens made outside a session.
	SessionID string
	ExpiresAt time.Time
}

// TokenIssuer signs and verifies short-lived access tokens.
type TokenIssuer interface {
	// IssueAccess signs a token for the user's sign-in session.
	IssueAccess(userID string, role Role, sessionID string) (string, error)
	// VerifyAccess returns the claims of a valid token, or an error for
	// any token that must not be accepted.
	VerifyAccess(raw string) (AccessClaims, error)
	// TTL is how long issued tokens live.
	TTL() time.Duration
}

// AttemptLimiter throttles failed sign-in attempts per key (IP, account).
type AttemptLimiter interface {
	// Blocked reports whether key has no attempts left and how long until it has.
	Blocked(ctx context.Context, key string) (bool, time.Duration, error)
	// Fail counts one failed attempt for key.
	Fail(ctx context.Context, key string) error
	// Reset forgets key's failures.
	Reset(ctx context.Context, key string) error
}

// FileStore keeps attachment bytes; a disk directory by default, replaceable
// by an object store.
type FileStore interface {
	// Put stores r under key and returns the number of bytes written.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Open returns the bytes stored under key, or ENOTFOUND.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
}
