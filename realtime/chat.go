package realtime

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"teleconsult/models"
	"teleconsult/wire"
)

// checkRoom requires an appointment id.
func checkRoom(appointmentID string) error {
	if strings.TrimSpace(appointmentID) == "" {
		return models.InvalidFields(map[string]any{"appointment_id": "is required"})
	}
	if len(appointmentID) > 64 { // no appointment has such an id: as REST answers
		return models.ErrAppointmentNotFound
	}
	return nil
}

// inRoom requires the socket to have joined the appointment's room.
func inRoom(sock *socket.Socket, appointmentID string) error {
	if !sock.Rooms().Has(apptRoom(appointmentID)) {
		return models.Errorf(models.EFORBIDDEN, "join the consultation first")
	}
	return nil
}

func (s *Server) registerChat(sock *socket.Socket, sess *session) {
	s.on(sock, sess, "consultation:join", func(ctx context.Context, sess *session, raw json.RawMessage) (any, error) {
		in, err := decode[wire.RoomRequest](raw)
		if err == nil {
			err = checkRoom(in.AppointmentID)
		}
		if err != nil {
			return nil, err
		}
		room, err := s.svc.Chat.Join(ctx, sess.actor, in.AppointmentID)
		if err != nil {
			return nil, err
		}
		// A device joining during a call learns of it now, so that its
		// first candidates need no lookup (see calls.go).
		var call *wire.CallInfo
		if cs := room.Call; cs != nil {
			sess.callStarted(in.AppointmentID, cs.CallID)
			call = &wire.CallInfo{CallID: cs.CallID, State: cs.State, Media: cs.Media, CallerID: cs.CallerID}
		}
		var peers []string
		for _, m := range room.Members {
			if m.UserID != sess.actor.UserID {
				peers = append(peers, m.UserID)
			}
		}
		sess.joined(in.AppointmentID, peers)
		r := apptRoom(in.AppointmentID)
		wasOnline := s.userInRoom(ctx, r, sess.actor.UserID)
		sock.Join(r)
		if !wasOnline {
			s.io.To(r).Except(socket.Room(sock.Id())).Emit("consultation:presence", presence(in.AppointmentID, sess.actor.UserID, true))
		}
		online := s.onlineIn(ctx, r)
		members := make([]wire.Member, 0, len(room.Members))
		for _, m := range room.Members {
			members = append(members, wire.Member{UserID: m.UserID, Role: string(m.Role), Name: m.Name, Online: online[m.UserID]})
		}
		readList := make([]wire.ReadMarker, 0, len(room.Reads))
		for _, rd := range room.Reads {
			readList = append(readList, wire.ReadMarker{UserID: rd.UserID, Seq: rd.Seq})
		}
		return wire.JoinAck{OK: true, Appointment: wire.NewAppointment(room.Appointment), Members: members,
			LastSeq: room.LastSeq, Reads: readList, Call: call,
			Limits: wire.RoomLimits{MessageMaxRunes: models.MaxMessageRunes, AttachmentMaxBytes: room.AttachmentMaxBytes}}, nil
	})

	s.on(sock, sess, "consultation:leave", func(ctx context.Context, sess *session, raw json.RawMessage) (any, error) {
		in, err := decode[wire.RoomRequest](raw)
		if err == nil {
			err = checkRoom(in.AppointmentID)
		}
		if err != nil {
			return nil, err
		}
		r := apptRoom(in.AppointmentID)
		if !sock.Rooms().Has(r) {
			return nil, nil
		}
		sock.Leave(r)
		if !s.userInRoom(ctx, r, sess.actor.UserID) {
			s.io.To(r).Emit("consultation:presence", presence(in.AppointmentID, sess.actor.UserID, false))
		}
		return nil, nil
	})

	s.on(sock, sess, "chat:send", func(ctx context.Context, sess *session, raw json.RawMessage) (any, error) {
		in, err := decode[wire.SendRequest](raw)
		if err != nil {
			return nil, err
		}
		m, created, err := s.svc.Chat.Send(ctx, sess.actor, models.SendInput(in))
		if err != nil {
			return nil, err
		}
		if created {
			s.relayMessage(m, sock.Id())
			s.tellUnread(m, sess.peersIn(in.AppointmentID))
		}
		return wire.MessageAck{OK: true, Message: wire.NewMessage(m)}, nil
	})

	s.on(sock, sess, "chat:typing", func(ctx context.Context, sess *session, raw json.RawMessage) (any, error) {
		in, err := decode[wire.TypingRequest](raw)
		if err == nil {
			err = checkRoom(in.AppointmentID)
		}
		if err == nil && in.Typing == nil {
			err = models.InvalidFields(map[string]any{"typing": "is required"})
		}
		if err != nil {
			return nil, err
		}
		if err := inRoom(sock, in.AppointmentID); err != nil {
			return nil, err
		}
		payload := rawJSON(wire.Typing{AppointmentID: in.AppointmentID, UserID: sess.actor.UserID, Typing: *in.Typing})
		s.fan.do(func() { sock.To(apptRoom(in.AppointmentID)).Emit("chat:typing", payload) })
		return nil, nil
	})

	s.on(sock, sess, "chat:read", func(ctx context.Context, sess *session, raw json.RawMessage) (any, error) {
		in, err := decode[wire.ReadRequest](raw)
		if err == nil {
			err = checkRoom(in.AppointmentID)
		}
		if err == nil && in.Seq == nil {
			err = models.InvalidFields(map[string]any{"seq": "is required"})
		}
		if err != nil {
			return nil, err
		}
		seq, err := s.svc.Chat.MarkRead(ctx, sess.actor, in.AppointmentID, *in.Seq)
		if err != nil {
			return nil, err
		}
		payload := rawJSON(wire.Read{AppointmentID: in.AppointmentID, UserID: sess.actor.UserID, Seq: seq})
		s.fan.do(func() { _ = s.io.To(apptRoom(in.AppointmentID)).Emit("chat:read", payload) })
		// Every device of the reader learns its new count (badges elsewhere).
		s.sendUnread(sess.actor.UserID, in.AppointmentID, false)
		return wire.SeqAck{OK: true, Seq: seq}, nil
	})

	s.on(sock, sess, "chat:sync", func(ctx context.Context, sess *session, raw json.RawMessage) (any, error) {
		in, err := decode[wire.SyncRequest](raw)
		if err == nil {
			err = checkRoom(in.AppointmentID)
		}
		if err != nil {
			return nil, err
		}
		ms, err := s.svc.Chat.Sync(ctx, sess.actor, in.AppointmentID, in.AfterSeq)
		if err != nil {
			return nil, err
		}
		return wire.SyncAck{OK: true, Messages: wire.NewMessages(ms), HasMore: len(ms) == models.MaxSyncMessages}, nil
	})
}

func presence(appointmentID, userID string, online bool) any {
	return rawJSON(wire.Presence{AppointmentID: appointmentID, UserID: userID, Online: online})
}

// onlineIn returns the users with at least one socket in room, on any node.
func (s *Server) onlineIn(ctx context.Context, room socket.Room) map[string]bool {
	socks, err := s.fetch(ctx, s.io.In(room).FetchSockets())
	out := map[string]bool{}
	if err != nil {
		s.log.Warn("presence lookup failed", "room", room, "err", err)
		return out
	}
	for _, rs := range socks {
		for _, r := range rs.Rooms().Keys() {
			if id, ok := strings.CutPrefix(string(r), "user:"); ok {
				out[id] = true
			}
		}
	}
	return out
}

// userInRoom reports whether userID has a socket in room, on any node.
func (s *Server) userInRoom(ctx context.Context, room socket.Room, userID string) bool {
	return s.onlineIn(ctx, room)[userID]
}

// onDisconnecting announces the user offline in each room this socket was
// the user's last one in.
func (s *Server) onDisconnecting(sock *socket.Socket, sess *session) {
	var rooms []socket.Room
	for _, r := range sock.Rooms().Keys() {
		if strings.HasPrefix(string(r), "appt:") {
			rooms = append(rooms, r)
		}
	}
	if len(rooms) == 0 {
		return
	}
	// The socket leaves its rooms right after this; look once it has.
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, r := range rooms {
			for range 50 {
				if !sock.Rooms().Has(r) {
					break
				}
				sleep(ctx, 10)
			}
			if !s.userInRoom(ctx, r, sess.actor.UserID) {
				id := strings.TrimPrefix(string(r), "appt:")
				s.io.To(r).Emit("consultation:presence", presence(id, sess.actor.UserID, false))
				s.endCallIfGone(r, id, sess.actor.UserID, sess.knownCall(id))
			}
		}
	}()
}
