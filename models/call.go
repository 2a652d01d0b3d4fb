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
	AcceptedAt    *time.Time
	UpdatedAt     time.Time

	// The appointment's participants, set by the operations that change
	// the call (for reaching their devices).
	PatientID string
	DoctorID  string
	// CallerName is set by RingingFor.
	CallerName string
}

// EndsWhenAbsent reports whether userID leaving the room for good ends the
// call: a running call, or a ringing one they placed. A callee away from
// the room is normal while it rings (it rings on every screen).
func (cs CallState) EndsWhenAbsent(userID string) bool {
	return cs.State == CallActive || (cs.State == CallRinging && cs.CallerID == userID)
}

// Callee is the participant the caller called.
func (cs CallState) Callee() string {
	if cs.CallerID == cs.PatientID {
		return cs.DoctorID
	}
	return cs.PatientID
}

// Participants are the call's two sides.
func (cs CallState) Participants() []string { return []string{cs.PatientID, cs.DoctorID} }

// CallRecord is what a call leaves in the room's history once it ends.
type CallRecord struct {
	CallID    string `json:"call_id"`
	Media     string `json:"media"`
	Outcome   string `json:"outcome"` // one of the Call* outcomes
	DurationS int64  `json:"duration_s"`
}

// Call outcomes.
const (
	CallCompleted = "completed" // answered, then hung up by either side
	CallMissed    = "missed"    // rang until the ring timeout, or the callee was gone
	CallDeclined  = "declined"  // the callee refused
	CallCancelled = "cancelled" // the caller gave up while it rang
)

// CallEnd says how a call ended.
type CallEnd int

// How calls end.
const (
	EndHangup  CallEnd = iota // a participant hung up
	EndReject                 // the callee rejected the ringing call
	EndTimeout                // nobody answered before the ring deadline
	EndAbsent                 // a participant's devices all left and did not come back
)

// Record is the one place deciding a call's outcome: by is the user who
// ended it (empty for a timeout).
func (cs CallState) Record(how CallEnd, by string, now time.Time) CallRecord {
	r := CallRecord{CallID: cs.CallID, Media: cs.Media}
	switch {
	case cs.State == CallActive:
		r.Outcome = CallCompleted
		if cs.AcceptedAt != nil && now.After(*cs.AcceptedAt) {
			r.DurationS = int64(now.Sub(*cs.AcceptedAt).Round(time.Second) / time.Second)
		}
	case how == EndReject:
		r.Outcome = CallDeclined
	case how == EndHangup && by != cs.CallerID:
		r.Outcome = CallDeclined
	case (how == EndHangup || how == EndAbsent) && by == cs.CallerID:
		r.Outcome = CallCancelled
	default:
		r.Outcome = CallMissed
	}
	return r
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
	// EndIfAbsent ends call callID on behalf of a participant whose devices
	// all left the room (the caller waited the grace period), if their
	// absence ends it (see EndsWhenAbsent).
	EndIfAbsent(ctx context.Context, appointmentID, userID, callID string) (CallState, bool, error)
	// Ringing returns every call ringing now, each with its participants
	// and its caller's name: a device that connects while one rings for
	// its user rings too.
	Ringing(ctx context.Context) ([]CallState, error)
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
