package realtime

import (
	"context"
	"encoding/json"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"teleconsult/models"
	"teleconsult/wire"
)

// registerCallHandlers adds the rtc:* events: call state changes go through
// the call service (one state per room, shared by every node); offers,
// answers and candidates are relayed to the other members of the room only.
func (s *Server) registerCallHandlers(sock *socket.Socket, sess *session) {
	s.on(sock, sess, "rtc:invite", func(ctx context.Context, sess *session, raw json.RawMessage) (any, error) {
		in, err := decode[wire.InviteRequest](raw)
		if err == nil {
			err = checkRoom(in.AppointmentID)
		}
		if err != nil {
			return nil, err
		}
		cs, err := s.svc.Calls.Invite(ctx, sess.actor, in.AppointmentID, in.Media)
		if err != nil {
			return nil, err
		}
		sess.callStarted(in.AppointmentID, cs.CallID)
		// It rings on every device of the callee, in the room or not.
		sig := wire.Signal{AppointmentID: in.AppointmentID, Media: cs.Media, CallID: cs.CallID,
			FromUserID: sess.actor.UserID, FromName: sess.principal.User.Name}
		s.callEvent([]string{cs.Callee()}, "", "rtc:invite", sig)
		time.AfterFunc(time.Until(cs.RingDeadline)+50*time.Millisecond, func() { s.expireRinging(cs) })
		return wire.CallAck{OK: true, CallID: cs.CallID}, nil
	})
	for event, op := range map[string]func(models.CallService, context.Context, models.Actor, string) (models.CallState, error){
		"rtc:accept": models.CallService.Accept,
		"rtc:reject": models.CallService.Reject,
		"rtc:hangup": models.CallService.Hangup,
	} {
		s.on(sock, sess, event, func(ctx context.Context, sess *session, raw json.RawMessage) (any, error) {
			in, err := decode[wire.RoomRequest](raw)
			if err == nil {
				err = checkRoom(in.AppointmentID)
			}
			if err != nil {
				return nil, err
			}
			cs, err := op(s.svc.Calls, ctx, sess.actor, in.AppointmentID)
			if err != nil {
				return nil, err
			}
			sig := wire.Signal{AppointmentID: in.AppointmentID, CallID: cs.CallID}
			if event == "rtc:accept" {
				sess.callStarted(in.AppointmentID, cs.CallID)
			} else {
				sess.callEnded(in.AppointmentID, cs.CallID)
			}
			if event == "rtc:hangup" {
				sig.Reason = "hangup"
			}
			// Both sides' devices learn it (the callee's other screens stop
			// ringing), except the socket that did it.
			sig.FromUserID = sess.actor.UserID
			s.callEvent(cs.Participants(), sock.Id(), event, sig)
			return wire.CallAck{OK: true, CallID: cs.CallID}, nil
		})
	}
	for event, field := range map[string]string{"rtc:offer": "sdp", "rtc:answer": "sdp", "rtc:ice": "candidate"} {
		s.on(sock, sess, event, func(ctx context.Context, sess *session, raw json.RawMessage) (any, error) {
			var in struct {
				AppointmentID json.RawMessage `json:"appointment_id"`
				SDP           json.RawMessage `json:"sdp"`
				Candidate     json.RawMessage `json:"candidate"`
			}
			if f, ok := objectFields(raw, "appointment_id", "sdp", "candidate"); ok {
				in.AppointmentID, in.SDP, in.Candidate = f[0], f[1], f[2]
			} else if err := json.Unmarshal(raw, &in); err != nil {
				return nil, errPayload
			}
			var id string
			if err := json.Unmarshal(in.AppointmentID, &id); err != nil {
				return nil, models.InvalidFields(map[string]any{"appointment_id": "must be a string"})
			}
			value := in.Candidate
			if field == "sdp" {
				value = in.SDP
			}
			if err := checkRoom(id); err != nil {
				return nil, err
			}
			if err := models.CheckSignal(field, len(value)); err != nil {
				return nil, err
			}
			if err := inRoom(sock, id); err != nil {
				return nil, err
			}
			if field == "sdp" {
				// Offers and answers are rare: check the call is still
				// allowed in the database.
				cs, err := s.svc.Calls.Current(ctx, sess.actor, id)
				if err != nil {
					if models.ErrorCode(err) == models.ENOTFOUND {
						sess.callEnded(id, "")
						return nil, errNoCall
					}
					return nil, err
				}
				sess.callStarted(id, cs.CallID)
			} else if err := s.checkCall(ctx, sess, id); err != nil {
				// Candidates: from memory when the call is known (see calls.go).
				return nil, err
			}
			sig := wire.Signal{AppointmentID: id}
			if field == "sdp" {
				sig.SDP = value
			} else {
				sig.Candidate = value
			}
			s.relay(sess, event, sig)
			return nil, nil
		})
	}
}

// relay sends a signal to the other members of the room (every device of
// theirs, on every node), never back to the sender's devices.
func (s *Server) relay(sess *session, event string, sig wire.Signal) {
	sig.FromUserID = sess.actor.UserID
	payload := rawJSON(sig)
	if s.opts.Redis == nil && ephemeral[event] {
		s.fan.do(func() { s.deliverLocal(apptRoom(sig.AppointmentID), sess.actor.UserID, event, payload) })
		return
	}
	s.fan.do(func() {
		_ = s.io.To(apptRoom(sig.AppointmentID)).Except(userRoom(sess.actor.UserID)).Emit(event, payload)
	})
}

// expireRinging ends an invite nobody answered in time.
func (s *Server) expireRinging(cs models.CallState) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ended, err := s.svc.Calls.ExpireRinging(ctx, cs.AppointmentID, cs.CallID)
	if err != nil {
		s.log.Error("expire ringing call", "appointment_id", cs.AppointmentID, "err", err)
		return
	}
	if ended {
		s.callEvent(cs.Participants(), "", "rtc:hangup", wire.Signal{AppointmentID: cs.AppointmentID,
			CallID: cs.CallID, FromUserID: cs.CallerID, Reason: "timeout"})
	}
}

// ringAgain rings a device that connects while a call rings for its user
// (a reload, or a screen opened during the ring): it gets the invite the
// user's other devices got. Devices connecting at once (a reconnect storm)
// share one look-up of the ringing calls: each joins a look-up in flight
// rather than starting its own. The device is in its user room already,
// so a change of a call after the look-up reaches it as an event.
func (s *Server) ringAgain(sock *socket.Socket, sess *session) {
	v, err, _ := s.ringing.Do("ringing", func() (any, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return s.svc.Calls.Ringing(ctx)
	})
	if err != nil {
		s.log.Warn("ringing calls look-up failed", "user_id", sess.actor.UserID, "err", err)
		return
	}
	for _, cs := range v.([]models.CallState) {
		if cs.Callee() != sess.actor.UserID {
			continue
		}
		if !sock.Connected() {
			return
		}
		_ = sock.Emit("rtc:invite", rawJSON(wire.Signal{AppointmentID: cs.AppointmentID, CallID: cs.CallID, Media: cs.Media,
			FromUserID: cs.CallerID, FromName: cs.CallerName}))
	}
}

// callEvent sends a change of a call to every device of the given users
// (one broadcast per user room: see OnEvent), except one socket.
func (s *Server) callEvent(users []string, except socket.SocketId, event string, sig wire.Signal) {
	payload := rawJSON(sig)
	s.fan.do(func() {
		for _, userID := range users {
			op := s.io.To(userRoom(userID))
			if except != "" {
				op = op.Except(socket.Room(except))
			}
			_ = op.Emit(event, payload)
		}
	})
}

// endCallIfGone ends callID (the call the leaving device knew of) when
// userID has not come back to the room within the grace period after their
// last device left, if their absence ends it.
func (s *Server) endCallIfGone(room socket.Room, appointmentID, userID, callID string) {
	if callID == "" {
		return // the device knew of no call: nothing of theirs to end
	}
	time.AfterFunc(s.opts.CallGrace, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if s.userInRoom(ctx, room, userID) {
			return
		}
		cs, ended, err := s.svc.Calls.EndIfAbsent(ctx, appointmentID, userID, callID)
		if err != nil {
			s.log.Error("end call after disconnect", "appointment_id", appointmentID, "err", err)
			return
		}
		if ended {
			s.callEvent(cs.Participants(), "", "rtc:hangup", wire.Signal{AppointmentID: appointmentID,
				CallID: cs.CallID, FromUserID: userID, Reason: "disconnected"})
		}
	})
}
