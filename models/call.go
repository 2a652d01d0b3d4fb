package models

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Call states kept in call_states; no row means idle.
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
	AppointmentID string `gorm:"primaryKey"`
	CallID        string
	State         string
	CallerID      string
	Media         string
	RingDeadline  time.Time
	UpdatedAt     time.Time
}

// Calls keeps each room's call state (idle → ringing → active → idle) in
// the database, where every node sees it, and makes TURN credentials.
type Calls struct{ p *Platform }

func newCalls(p *Platform) *Calls { return &Calls{p: p} }

// participant checks the actor may signal in the appointment: its patient
// or doctor, while it is booked or in progress.
func (c *Calls) participant(ctx context.Context, actor Actor, appointmentID string) (Appointment, error) {
	var a Appointment
	err := c.p.DB.WithContext(ctx).Select("id", "patient_id", "doctor_id", "status").Where("id = ?", appointmentID).Take(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Appointment{}, errForbiddenRoom
	}
	if err != nil {
		return Appointment{}, err
	}
	if !a.IsParticipant(actor.UserID) {
		return Appointment{}, errForbiddenRoom
	}
	if !a.Active() {
		return Appointment{}, Errorf(EFORBIDDEN, "calls are closed for a %s consultation", a.Status)
	}
	return a, nil
}

// Invite starts ringing. A room whose call rings or runs answers EBUSY; a
// ringing call past its deadline (its node went away) is replaced.
func (c *Calls) Invite(ctx context.Context, actor Actor, appointmentID, media string) (CallState, error) {
	if media != "audio" && media != "video" {
		return CallState{}, InvalidFields(map[string]any{"media": "must be audio or video"})
	}
	if _, err := c.participant(ctx, actor, appointmentID); err != nil {
		return CallState{}, err
	}
	now := c.p.Opts.Clock.Now().UTC()
	cs := CallState{AppointmentID: appointmentID, CallID: uuid.NewString(), State: CallRinging, CallerID: actor.UserID,
		Media: media, RingDeadline: now.Add(c.p.Opts.RingTimeout), UpdatedAt: now}
	db := c.p.DB.WithContext(ctx)
	res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&cs)
	if res.Error != nil {
		return CallState{}, res.Error
	}
	if res.RowsAffected == 1 {
		return cs, nil
	}
	res = db.Model(&CallState{}).Where("appointment_id = ? AND state = ? AND ring_deadline < ?", appointmentID, CallRinging, now).
		Updates(map[string]any{"call_id": cs.CallID, "caller_id": cs.CallerID, "media": media, "ring_deadline": cs.RingDeadline, "updated_at": now})
	if res.Error != nil {
		return CallState{}, res.Error
	}
	if res.RowsAffected == 1 {
		return cs, nil
	}
	return CallState{}, Errorf(EBUSY, "a call is already ringing or running in this consultation")
}

// Accept turns the ringing call active; only the callee may accept.
func (c *Calls) Accept(ctx context.Context, actor Actor, appointmentID string) (CallState, error) {
	return c.answer(ctx, actor, appointmentID, true)
}

// Reject ends a ringing call; only the callee may reject.
func (c *Calls) Reject(ctx context.Context, actor Actor, appointmentID string) (CallState, error) {
	return c.answer(ctx, actor, appointmentID, false)
}

func (c *Calls) answer(ctx context.Context, actor Actor, appointmentID string, accept bool) (CallState, error) {
	if _, err := c.participant(ctx, actor, appointmentID); err != nil {
		return CallState{}, err
	}
	cs, err := c.Current(ctx, appointmentID)
	if err != nil {
		return CallState{}, err
	}
	if cs.State != CallRinging || cs.CallerID == actor.UserID {
		return CallState{}, Errorf(ECONFLICT, "no call is ringing for you in this consultation")
	}
	now := c.p.Opts.Clock.Now().UTC()
	q := c.p.DB.WithContext(ctx).Where("appointment_id = ? AND call_id = ? AND state = ?", appointmentID, cs.CallID, CallRinging)
	var res *gorm.DB
	if accept {
		res = q.Model(&CallState{}).Updates(map[string]any{"state": CallActive, "updated_at": now})
		cs.State = CallActive
	} else {
		res = q.Delete(&CallState{})
	}
	if res.Error != nil {
		return CallState{}, res.Error
	}
	if res.RowsAffected == 0 {
		return CallState{}, Errorf(ECONFLICT, "the call stopped ringing")
	}
	return cs, nil
}

// Hangup ends the room's call, ringing or active; either participant may.
func (c *Calls) Hangup(ctx context.Context, actor Actor, appointmentID string) (CallState, error) {
	var a Appointment
	err := c.p.DB.WithContext(ctx).Select("id", "patient_id", "doctor_id").Where("id = ?", appointmentID).Take(&a).Error
	if err != nil || !a.IsParticipant(actor.UserID) {
		return CallState{}, errForbiddenRoom
	}
	return c.end(ctx, appointmentID, "")
}

// end deletes the call (only callID's, when given) and returns what it was.
func (c *Calls) end(ctx context.Context, appointmentID, callID string) (CallState, error) {
	cs, err := c.Current(ctx, appointmentID)
	if err != nil {
		return CallState{}, err
	}
	if callID != "" && cs.CallID != callID {
		return CallState{}, Errorf(ECONFLICT, "no such call")
	}
	res := c.p.DB.WithContext(ctx).Where("appointment_id = ? AND call_id = ?", appointmentID, cs.CallID).Delete(&CallState{})
	if res.Error != nil {
		return CallState{}, res.Error
	}
	if res.RowsAffected == 0 {
		return CallState{}, Errorf(ECONFLICT, "no call is running in this consultation")
	}
	return cs, nil
}

// ExpireRinging ends callID if it is still ringing past its deadline.
func (c *Calls) ExpireRinging(ctx context.Context, appointmentID, callID string) (bool, error) {
	res := c.p.DB.WithContext(ctx).Where("appointment_id = ? AND call_id = ? AND state = ? AND ring_deadline <= ?",
		appointmentID, callID, CallRinging, c.p.Opts.Clock.Now().UTC()).Delete(&CallState{})
	return res.RowsAffected == 1, res.Error
}

// EndIfAbsent ends the room's call on behalf of a participant who left
// (the caller checked that they did not come back in time).
func (c *Calls) EndIfAbsent(ctx context.Context, appointmentID, userID string) (CallState, bool, error) {
	cs, err := c.Current(ctx, appointmentID)
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return CallState{}, false, nil
		}
		return CallState{}, false, err
	}
	var a Appointment
	if err := c.p.DB.WithContext(ctx).Select("id", "patient_id", "doctor_id").Where("id = ?", appointmentID).Take(&a).Error; err != nil {
		return CallState{}, false, err
	}
	if !a.IsParticipant(userID) {
		return CallState{}, false, nil
	}
	if _, err := c.end(ctx, appointmentID, cs.CallID); err != nil {
		if ErrorCode(err) == ECONFLICT {
			return CallState{}, false, nil
		}
		return CallState{}, false, err
	}
	return cs, true, nil
}

// Current returns the room's call, or ENOTFOUND when idle.
func (c *Calls) Current(ctx context.Context, appointmentID string) (CallState, error) {
	var cs CallState
	err := c.p.DB.WithContext(ctx).Where("appointment_id = ?", appointmentID).Take(&cs).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return CallState{}, Errorf(ENOTFOUND, "no call in this consultation")
	}
	return cs, err
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

// ICEServers returns the STUN servers and, when configured, TURN servers
// with credentials in the TURN REST scheme (coturn's use-auth-secret):
// username "<expiry unix>:<user id>", credential
// base64(HMAC-SHA1(secret, username)), valid for TURNTTL.
func (c *Calls) ICEServers(actor Actor) ([]ICEServer, time.Duration) {
	o := c.p.Opts
	var out []ICEServer
	if len(o.STUNURLs) > 0 {
		out = append(out, ICEServer{URLs: o.STUNURLs})
	}
	if len(o.TURNURLs) > 0 && o.TURNSecret != "" {
		expiry := o.Clock.Now().Add(o.TURNTTL).Unix()
		user := fmt.Sprintf("%d:%s", expiry, actor.UserID)
		out = append(out, ICEServer{URLs: o.TURNURLs, Username: user, Credential: TURNCredential(o.TURNSecret, user)})
	}
	return out, o.TURNTTL
}

// TURNCredential is base64(HMAC-SHA1(secret, username)).
func TURNCredential(secret, username string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
