package store

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"teleconsult/models"
)

// Calls keeps each room's call state in the database, where every node sees it.
type Calls struct {
	db     *gorm.DB
	clock  models.Clock
	policy models.Policy
	outbox *Outbox
	// RingTimeout is how long an invite rings.
	RingTimeout time.Duration
}

// NewCalls builds the call service.
// Every call that ends leaves a call message in the room's history, in the
// transaction that ends it, announced through the outbox.
func NewCalls(db *gorm.DB, clock models.Clock, policy models.Policy, outbox *Outbox, ringTimeout time.Duration) *Calls {
	return &Calls{db: db, clock: clock, policy: policy, outbox: outbox, RingTimeout: ringTimeout}
}

// participant checks the actor may call in the appointment.
func (c *Calls) participant(ctx context.Context, actor models.Actor, appointmentID string) (models.Appointment, error) {
	a, err := loadBare(ctx, c.db, appointmentID)
	if err != nil {
		return models.Appointment{}, err
	}
	if err := c.policy.CanCall(actor, a); err != nil {
		return models.Appointment{}, err
	}
	return a, nil
}

// Invite starts ringing. A room whose call rings or runs answers EBUSY; a
// ringing call past its deadline (its node went away) is replaced.
func (c *Calls) Invite(ctx context.Context, actor models.Actor, appointmentID, media string) (models.CallState, error) {
	if media != "audio" && media != "video" {
		return models.CallState{}, models.InvalidFields(map[string]any{"media": "must be audio or video"})
	}
	a, err := c.participant(ctx, actor, appointmentID)
	if err != nil {
		return models.CallState{}, err
	}
	now := c.clock.Now().UTC()
	cs := callStateRow{AppointmentID: appointmentID, CallID: uuid.NewString(), State: models.CallRinging, CallerID: actor.UserID,
		Media: media, RingDeadline: now.Add(c.RingTimeout), UpdatedAt: now}
	db := c.db.WithContext(ctx)
	res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&cs)
	if res.Error != nil {
		return models.CallState{}, res.Error
	}
	if res.RowsAffected == 1 {
		return withParties(cs.toModel(), a), nil
	}
	res = db.Model(&callStateRow{}).Where("appointment_id = ? AND state = ? AND ring_deadline < ?", appointmentID, models.CallRinging, now).
		Updates(map[string]any{"call_id": cs.CallID, "caller_id": cs.CallerID, "media": media, "ring_deadline": cs.RingDeadline, "updated_at": now})
	if res.Error != nil {
		return models.CallState{}, res.Error
	}
	if res.RowsAffected == 1 {
		return withParties(cs.toModel(), a), nil
	}
	return models.CallState{}, models.Errorf(models.EBUSY, "a call is already ringing or running in this consultation")
}

// Accept turns the ringing call active; only the callee may accept.
func (c *Calls) Accept(ctx context.Context, actor models.Actor, appointmentID string) (models.CallState, error) {
	return c.answer(ctx, actor, appointmentID, true)
}

// Reject ends a ringing call; only the callee may reject.
func (c *Calls) Reject(ctx context.Context, actor models.Actor, appointmentID string) (models.CallState, error) {
	return c.answer(ctx, actor, appointmentID, false)
}

func (c *Calls) answer(ctx context.Context, actor models.Actor, appointmentID string, accept bool) (models.CallState, error) {
	a, err := c.participant(ctx, actor, appointmentID)
	if err != nil {
		return models.CallState{}, err
	}
	cs, err := c.current(ctx, appointmentID)
	cs = withParties(cs, a)
	if models.ErrorCode(err) == models.ENOTFOUND || (err == nil && (cs.State != models.CallRinging || cs.CallerID == actor.UserID)) {
		return models.CallState{}, models.Errorf(models.ECONFLICT, "no call is ringing for you in this consultation")
	}
	if err != nil {
		return models.CallState{}, err
	}
	if !accept {
		ended, err := c.finish(ctx, cs, models.CallRinging, models.EndReject, actor.UserID)
		if err == nil && !ended {
			err = models.Errorf(models.ECONFLICT, "the call stopped ringing")
		}
		return cs, err
	}
	now := c.clock.Now().UTC()
	res := c.db.WithContext(ctx).Model(&callStateRow{}).Where("appointment_id = ? AND call_id = ? AND state = ?", appointmentID, cs.CallID, models.CallRinging).
		Updates(map[string]any{"state": models.CallActive, "accepted_at": now, "updated_at": now})
	if res.Error != nil {
		return models.CallState{}, res.Error
	}
	if res.RowsAffected == 0 {
		return models.CallState{}, models.Errorf(models.ECONFLICT, "the call stopped ringing")
	}
	cs.State, cs.AcceptedAt = models.CallActive, &now
	return cs, nil
}

// finish ends the call cs if it is still in state (any state when empty)
// and records how it ended in the room, in one transaction. It reports
// whether this call ended it (false: it had already ended or changed).
func (c *Calls) finish(ctx context.Context, cs models.CallState, state string, how models.CallEnd, by string) (bool, error) {
	now := c.clock.Now().UTC()
	ended := false
	err := c.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Where("appointment_id = ? AND call_id = ?", cs.AppointmentID, cs.CallID)
		if state != "" {
			q = q.Where("state = ?", state)
		}
		res := q.Delete(&callStateRow{})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		ended = true
		rec := cs.Record(how, by, now)
		m := recordRow(cs.AppointmentID, cs.CallerID, now, &rec, nil)
		return recordMessage(ctx, tx, c.outbox, &m)
	})
	if err != nil {
		return false, err
	}
	if ended {
		c.outbox.Kick()
	}
	return ended, nil
}

// Hangup ends the room's call, ringing or active; either participant may,
// whatever the appointment's status (a call may outlive a cancellation).
func (c *Calls) Hangup(ctx context.Context, actor models.Actor, appointmentID string) (models.CallState, error) {
	a, err := loadBare(ctx, c.db, appointmentID)
	if err != nil {
		return models.CallState{}, err
	}
	if err := c.policy.Check(actor, a, models.ActionHangup, c.clock.Now()); err != nil {
		return models.CallState{}, err
	}
	cs, err := c.end(ctx, appointmentID, "", models.EndHangup, actor.UserID)
	if err != nil {
		return models.CallState{}, err
	}
	return withParties(cs, a), nil
}

// withParties completes a call with its appointment's participants.
func withParties(cs models.CallState, a models.Appointment) models.CallState {
	cs.PatientID, cs.DoctorID = a.PatientID, a.DoctorID
	return cs
}

// end ends the call (only callID's, when given) and returns what it was.
func (c *Calls) end(ctx context.Context, appointmentID, callID string, how models.CallEnd, by string) (models.CallState, error) {
	cs, err := c.current(ctx, appointmentID)
	if models.ErrorCode(err) == models.ENOTFOUND {
		return models.CallState{}, models.Errorf(models.ECONFLICT, "no call is running in this consultation")
	}
	if err != nil {
		return models.CallState{}, err
	}
	if callID != "" && cs.CallID != callID {
		return models.CallState{}, models.Errorf(models.ECONFLICT, "no such call")
	}
	ended, err := c.finish(ctx, cs, "", how, by)
	if err != nil {
		return models.CallState{}, err
	}
	if !ended {
		return models.CallState{}, models.Errorf(models.ECONFLICT, "no call is running in this consultation")
	}
	return cs, nil
}

// ExpireRinging ends callID if it is still ringing past its deadline.
func (c *Calls) ExpireRinging(ctx context.Context, appointmentID, callID string) (bool, error) {
	cs, err := c.current(ctx, appointmentID)
	if models.ErrorCode(err) == models.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if cs.CallID != callID || cs.State != models.CallRinging || cs.RingDeadline.After(c.clock.Now()) {
		return false, nil
	}
	return c.finish(ctx, cs, models.CallRinging, models.EndTimeout, "")
}

// EndIfAbsent ends the room's call on behalf of a participant who left
// (the caller checked that they did not come back in time).
func (c *Calls) EndIfAbsent(ctx context.Context, appointmentID, userID, callID string) (models.CallState, bool, error) {
	cs, err := c.current(ctx, appointmentID)
	if models.ErrorCode(err) == models.ENOTFOUND {
		return models.CallState{}, false, nil
	}
	if err != nil {
		return models.CallState{}, false, err
	}
	if cs.CallID != callID || !cs.EndsWhenAbsent(userID) {
		// Another call by now, or one their absence does not end.
		return models.CallState{}, false, nil
	}
	a, err := loadBare(ctx, c.db, appointmentID)
	if err != nil {
		return models.CallState{}, false, err
	}
	if !a.IsParticipant(userID) {
		return models.CallState{}, false, nil
	}
	if _, err := c.end(ctx, appointmentID, cs.CallID, models.EndAbsent, userID); err != nil {
		if models.ErrorCode(err) == models.ECONFLICT {
			return models.CallState{}, false, nil
		}
		return models.CallState{}, false, err
	}
	return withParties(cs, a), true, nil
}

// InCall reports whether the actor takes part in a ringing or active call.
func (c *Calls) InCall(ctx context.Context, actor models.Actor) (bool, error) {
	var n int64
	err := c.db.WithContext(ctx).Model(&callStateRow{}).
		Joins("JOIN appointments a ON a.id = call_states.appointment_id").
		Where("a.patient_id = ? OR a.doctor_id = ?", actor.UserID, actor.UserID).Count(&n).Error
	return n > 0, err
}

// Current returns the room's call to a participant, or ENOTFOUND.
func (c *Calls) Current(ctx context.Context, actor models.Actor, appointmentID string) (models.CallState, error) {
	a, err := loadBare(ctx, c.db, appointmentID)
	if err != nil {
		return models.CallState{}, err
	}
	if err := c.policy.CanViewAppointment(actor, a); err != nil {
		return models.CallState{}, err
	}
	return c.current(ctx, appointmentID)
}

func (c *Calls) current(ctx context.Context, appointmentID string) (models.CallState, error) {
	var cs callStateRow
	err := c.db.WithContext(ctx).Where("appointment_id = ?", appointmentID).Take(&cs).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.CallState{}, models.Errorf(models.ENOTFOUND, "no call in this consultation")
	}
	if err != nil {
		return models.CallState{}, err
	}
	return cs.toModel(), nil
}

// Ringing returns every call ringing now (few: at most one per room).
func (c *Calls) Ringing(ctx context.Context) ([]models.CallState, error) {
	var rows []struct {
		AppointmentID string
		CallID        string
		CallerID      string
		Media         string
		RingDeadline  time.Time
		PatientID     string
		DoctorID      string
		CallerName    string
	}
	err := c.db.WithContext(ctx).Table("call_states").
		Select("call_states.appointment_id, call_states.call_id, call_states.caller_id, call_states.media, call_states.ring_deadline, "+
			"a.patient_id, a.doctor_id, u.name AS caller_name").
		Joins("JOIN appointments a ON a.id = call_states.appointment_id").
		Joins("JOIN users u ON u.id = call_states.caller_id").
		Where("call_states.state = ? AND call_states.ring_deadline > ?", models.CallRinging, c.clock.Now().UTC()).
		Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]models.CallState, len(rows))
	for i, r := range rows {
		out[i] = models.CallState{AppointmentID: r.AppointmentID, CallID: r.CallID, State: models.CallRinging, CallerID: r.CallerID,
			Media: r.Media, RingDeadline: r.RingDeadline.UTC(), PatientID: r.PatientID, DoctorID: r.DoctorID, CallerName: r.CallerName}
	}
	return out, nil
}
