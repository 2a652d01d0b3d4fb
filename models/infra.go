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

// AttemptLimiter counts attempts per key (an IP, an account) atomically,
// shared by the nodes where it can be; SignInPolicy and the rate limits
// of the edges decide with it.
type AttemptLimiter interface {
	// Hit counts one attempt of key in a window of the given length and
	// returns the count: taken before the work it guards, it is a
	// reservation that concurrent attempts cannot all slip past.
	Hit(ctx context.Context, key string, window time.Duration) (int64, error)
	// Undo takes one attempt of key back.
	Undo(ctx context.Context, key string) error
	// Hold takes key's gate for d unless it is held; it returns how long
	// the gate stays held when it is (0: taken).
	Hold(ctx context.Context, key string, d time.Duration) (time.Duration, error)
	// Reset forgets key's count and gate.
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
