package realtime

import (
	"context"
	"encoding/json"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"teleconsult/models"
)

type inviteInput struct {
	AppointmentID string `json:"appointment_id"`
	Media         string `json:"media"`
}

// registerCallHandlers adds the rtc:* events: call state changes go through
// models (one state per room, shared by every node); offers, answers and
// candidates are relayed to the other members of the room only.
func (s *Server) registerCallHandlers(sock *socket.Socket, sess *session) {
	s.on(sock, sess, "rtc:invite", func(ctx context.Context, sess *session, raw json.RawMessage) (map[string]any, error) {
		in, err := decode[inviteInput](raw)
		if err == nil {
			err = roomInput{in.AppointmentID}.check()
		}
		if err != nil {
			return nil, err
		}
		cs, err := s.p.Calls.Invite(ctx, sess.actor, in.AppointmentID, in.Media)
		if err != nil {
			return nil, err
		}
		s.relay(sess, "rtc:invite", in.AppointmentID, map[string]any{"media": cs.Media, "call_id": cs.CallID})
		time.AfterFunc(time.Until(cs.RingDeadline)+50*time.Millisecond, func() { s.expireRinging(cs) })
		return map[string]any{"call_id": cs.CallID}, nil
	})
	for event, op := range map[string]func(*models.Calls, context.Context, models.Actor, string) (models.CallState, error){
		"rtc:accept": (*models.Calls).Accept,
		"rtc:reject": (*models.Calls).Reject,
		"rtc:hangup": (*models.Calls).Hangup,
	} {
		s.on(sock, sess, event, func(ctx context.Context, sess *session, raw json.RawMessage) (map[string]any, error) {
			in, err := decode[roomInput](raw)
			if err == nil {
				err = in.check()
			}
			if err != nil {
				return nil, err
			}
			cs, err := op(s.p.Calls, ctx, sess.actor, in.AppointmentID)
			if err != nil {
				return nil, err
			}
			extra := map[string]any{"call_id": cs.CallID}
			if event == "rtc:hangup" {
				extra["reason"] = "hangup"
			}
			s.relay(sess, event, in.AppointmentID, extra)
			return map[string]any{"call_id": cs.CallID}, nil
		})
	}
	for event, field := range map[string]string{"rtc:offer": "sdp", "rtc:answer": "sdp", "rtc:ice": "candidate"} {
		s.on(sock, sess, event, func(ctx context.Context, sess *session, raw json.RawMessage) (map[string]any, error) {
			var in map[string]json.RawMessage
			if err := json.Unmarshal(raw, &in); err != nil {
				return nil, errPayload
			}
			var id string
			if err := json.Unmarshal(in["appointment_id"], &id); err != nil {
				return nil, models.InvalidFields(map[string]any{"appointment_id": "must be a string"})
			}
			if err := (roomInput{id}).check(); err != nil {
				return nil, err
			}
			kind := field
			if err := models.CheckSignal(kind, len(in[field])); err != nil {
				return nil, err
			}
			if err := inRoom(sock, id); err != nil {
				return nil, err
			}
			if field == "sdp" {
				// Offers and answers are rare: check the call is still allowed.
				if _, err := s.p.Calls.Current(ctx, id); err != nil {
					return nil, models.Errorf(models.ECONFLICT, "no call is ringing or running in this consultation")
				}
			}
			var value any
			_ = json.Unmarshal(in[field], &value)
			s.relay(sess, event, id, map[string]any{field: value})
			return nil, nil
		})
	}
}

// relay sends a signal to the other members of the room (every device of
// theirs, on every node), never back to the sender's devices.
func (s *Server) relay(sess *session, event, appointmentID string, fields map[string]any) {
	payload := map[string]any{"appointment_id": appointmentID, "from_user_id": sess.actor.UserID}
	for k, v := range fields {
		payload[k] = v
	}
	_ = s.io.To(apptRoom(appointmentID)).Except(userRoom(sess.actor.UserID)).Emit(event, payload)
}

// expireRinging ends an invite nobody answered in time.
func (s *Server) expireRinging(cs models.CallState) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ended, err := s.p.Calls.ExpireRinging(ctx, cs.AppointmentID, cs.CallID)
	if err != nil {
		s.log.Error("expire ringing call", "appointment_id", cs.AppointmentID, "err", err)
		return
	}
	if ended {
		_ = s.io.To(apptRoom(cs.AppointmentID)).Emit("rtc:hangup", map[string]any{"appointment_id": cs.AppointmentID,
			"call_id": cs.CallID, "from_user_id": cs.CallerID, "reason": "timeout"})
	}
}

// endCallIfGone ends the room's call when userID has not come back to the
// room within the grace period after their last device left.
func (s *Server) endCallIfGone(room socket.Room, appointmentID, userID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_, err := s.p.Calls.Current(ctx, appointmentID)
	cancel()
	if err != nil {
		return // idle, or nothing we can do
	}
	time.AfterFunc(s.p.Opts.CallGrace, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if s.userInRoom(ctx, room, userID) {
			return
		}
		cs, ended, err := s.p.Calls.EndIfAbsent(ctx, appointmentID, userID)
		if err != nil {
			s.log.Error("end call after disconnect", "appointment_id", appointmentID, "err", err)
			return
		}
		if ended {
			_ = s.io.To(apptRoom(appointmentID)).Emit("rtc:hangup", map[string]any{"appointment_id": appointmentID,
				"call_id": cs.CallID, "from_user_id": userID, "reason": "disconnected"})
		}
	})
}
