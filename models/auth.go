package models

import (
	"context"
	"time"
)

// Session is what a login or refresh hands out.
type Session struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    time.Duration
	User         User
	// DeviceToken marks this device as one the user signed in from; a
	// later sign-in presenting it is never throttled.
	DeviceToken string
}

// Principal is an authenticated caller.
type Principal struct {
	User User
	// ExpiresAt is when the access token runs out.
	ExpiresAt time.Time
	TokenID   string
	// SessionID is the sign-in session the token belongs to.
	SessionID string
}

// Actor returns the principal as an actor for operations.
func (p Principal) Actor(requestID string) Actor {
	return Actor{UserID: p.User.ID, Role: p.User.Role, RequestID: requestID, SessionID: p.SessionID}
}

// LoginInput are credentials, and where they come from.
type LoginInput struct {
	Email    string `field:"email" validate:"required,utf8,max=254"`
	Password string `field:"password" validate:"required,utf8,max=128"`
	// ClientIP is the caller's address, for the per-IP limit.
	ClientIP string
	// DeviceToken is what an earlier sign-in on this device handed out
	// (Session.DeviceToken), if the client kept it.
	DeviceToken string
	// UserAgent names the client, for the list of sessions.
	UserAgent string
}

// SignInSession is one of a user's live sign-in sessions (a device).
type SignInSession struct {
	ID         string
	CreatedAt  time.Time
	LastUsedAt time.Time
	UserAgent  string
	IP         string
	// Current is the session the request came from.
	Current bool
}

// AuthService signs users in and out and checks tokens.
type AuthService interface {
	// Login checks credentials and starts a session, applying
	// SignInPolicy. Returns EINVALID, EUNAUTHORIZED for wrong credentials
	// or a disabled account, ERATELIMITED while throttled (with
	// RetryAfterSeconds), and EUNAVAILABLE when hashing is saturated.
	Login(ctx context.Context, in LoginInput) (Session, error)
	// Refresh spends a refresh token and returns a new pair; presenting a
	// spent token revokes its family. Returns EUNAUTHORIZED.
	Refresh(ctx context.Context, raw string) (Session, error)
	// Logout revokes the family of the refresh token and raises
	// SessionEnded (its sockets close); unknown tokens are ignored.
	Logout(ctx context.Context, raw string) error
	// Sessions lists the actor's live sessions, most recently used first.
	Sessions(ctx context.Context, actor Actor) ([]SignInSession, error)
	// EndSession revokes one of the actor's sessions and raises
	// SessionEnded (its sockets close). Returns ENOTFOUND.
	EndSession(ctx context.Context, actor Actor, id string) error
	// Authenticate verifies an access token and that its user is enabled.
	// Returns EUNAUTHORIZED.
	Authenticate(ctx context.Context, raw string) (Principal, error)
}
