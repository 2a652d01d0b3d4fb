package models

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"time"
)

// Call states kept per room; none means idle.
const (
	CallRinging = "ringing"
	CallActive  = "active"
)

// Signal size limits.
const (
	MaxSDPBytes       = 64 << 10
	MaxCandidateBytes = 2 << 10
)

// CallState is the call of one consultation room.
type CallState struct {
	AppointmentID string
	CallID        string
	State         string
	CallerID      string
	Media         string
	RingDeadline  time.Time
	UpdatedAt     time.Time
}

// CallService keeps each room's call state (idle → ringing → active →
// idle) where every node sees it. Access follows Policy.CanCall: strangers
// get ENOTFOUND, a closed consultation EFORBIDDEN.
type CallService interface {
	// Invite starts ringing. Returns EINVALID, ENOTFOUND, EFORBIDDEN, or
	// EBUSY while a call rings or runs.
	Invite(ctx context.Context, actor Actor, appointmentID, media string) (CallState, error)
	// Accept turns the ringing call active; only the callee may. Returns
	// ENOTFOUND, EFORBIDDEN or ECONFLICT.
	Accept(ctx context.Context, actor Actor, appointmentID string) (CallState, error)
	// Reject ends a ringing call; only the callee may. Returns what Accept returns.
	Reject(ctx context.Context, actor Actor, appointmentID string) (CallState, error)
	// Hangup ends the call, ringing or active; either participant may.
	// Returns ENOTFOUND, or ECONFLICT when no call runs.
	Hangup(ctx context.Context, actor Actor, appointmentID string) (CallState, error)
	// Current returns the room's call to a participant. Returns ENOTFOUND
	// when idle or not theirs.
	Current(ctx context.Context, actor Actor, appointmentID string) (CallState, error)
	// ExpireRinging ends callID if it still rings past its deadline.
	ExpireRinging(ctx context.Context, appointmentID, callID string) (bool, error)
	// EndIfAbsent ends the room's call on behalf of a participant whose
	// devices all left (the caller waited the grace period).
	EndIfAbsent(ctx context.Context, appointmentID, userID string) (CallState, bool, error)
	// InCall reports whether the actor takes part in a ringing or active call.
	InCall(ctx context.Context, actor Actor) (bool, error)
}

// ICEFor returns the ICE servers for an actor: TURN credentials only to
// someone in a ringing or active call (TURN relays cost bandwidth and are
// worth stealing), STUN to everyone.
func (c ICEConfig) ICEFor(actor Actor, inCall bool, now time.Time) ([]ICEServer, time.Duration) {
	if !inCall {
		c.TURNURLs = nil
	}
	return c.Servers(actor, now)
}

// CheckSignal validates a relayed offer/answer (sdp) or candidate size.
func CheckSignal(kind string, encodedLen int) error {
	switch {
	case kind == "sdp" && encodedLen > MaxSDPBytes:
		return InvalidFields(map[string]any{"sdp": "must be at most 64 KiB"})
	case kind == "candidate" && encodedLen > MaxCandidateBytes:
		return InvalidFields(map[string]any{"candidate": "must be at most 2 KiB"})
	case encodedLen == 0 || encodedLen == 4: // missing or null
		return InvalidFields(map[string]any{kind: "is required"})
	}
	return nil
}

// ICEServer is one STUN or TURN server for a client.
type ICEServer struct {
	URLs       []string
	Username   string
	Credential string
}

// ICEConfig are the STUN and TURN servers handed to clients.
type ICEConfig struct {
	STUNURLs   []string
	TURNURLs   []string
	TURNSecret string
	TURNTTL    time.Duration
}

// Servers returns the STUN servers and, when configured, TURN servers
// with credentials in the TURN REST scheme (coturn's use-auth-secret):
// username "<expiry unix>:<user id>", credential
// base64(HMAC-SHA1(secret, username)), valid for TURNTTL.
func (c ICEConfig) Servers(actor Actor, now time.Time) ([]ICEServer, time.Duration) {
	var out []ICEServer
	if len(c.STUNURLs) > 0 {
		out = append(out, ICEServer{URLs: c.STUNURLs})
	}
	if len(c.TURNURLs) > 0 && c.TURNSecret != "" {
		expiry := now.Add(c.TURNTTL).Unix()
		user := fmt.Sprintf("%d:%s", expiry, actor.UserID)
		out = append(out, ICEServer{URLs: c.TURNURLs, Username: user, Credential: TURNCredential(c.TURNSecret, user)})
	}
	return out, c.TURNTTL
}

// TURNCredential is base64(HMAC-SHA1(secret, username)).
func TURNCredential(secret, username string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
