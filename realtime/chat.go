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

type roomInput struct {
	AppointmentID string `json:"appointment_id"`
}

func (r roomInput) check() error {
	if strings.TrimSpace(r.AppointmentID) == "" || len(r.AppointmentID) > 64 {
		return models.InvalidFields(map[string]any{"appointment_id": "is required"})
	}
	return nil
}

type typingInput struct {
	AppointmentID string `json:"appointment_id"`
	Typing        *bool  `json:"typing"`
}

type readInput struct {
	AppointmentID string `json:"appointment_id"`
	Seq           *int64 `json:"seq"`
}

type syncInput struct {
	AppointmentID string `json:"appointment_id"`
	AfterSeq      int64  `json:"after_seq"`
}

// inRoom requires the socket to have joined the appointment's room.
func inRoom(sock *socket.Socket, appointmentID string) error {
	if !sock.Rooms().Has(apptRoom(appointmentID)) {
		return models.Errorf(models.EFORBIDDEN, "join the consultation first")
	}
	return nil
}

// originKey marks, in an operation's context, the socket that caused it,
// so a broadcast of its result can skip that socket (it has the ack).
type originKey struct{}

func (s *Server) registerChat(sock *socket.Socket, sess *session) {
	s.on(sock, sess, "consultation:join", func(ctx context.Context, sess *session, raw json.RawMessage) (map[string]any, error) {
		in, err := decode[roomInput](raw)
		if err == nil {
			err = in.check()
		}
		if err != nil {
			return nil, err
		}
		room, err := s.p.Chat.Join(ctx, sess.actor, in.AppointmentID)
		if err != nil {
			return nil, err
		}
		r := apptRoom(in.AppointmentID)
		wasOnline := s.userInRoom(ctx, r, sess.actor.UserID)
		sock.Join(r)
		if !wasOnline {
			s.io.To(r).Except(socket.Room(sock.Id())).Emit("consultation:presence", presence(in.AppointmentID, sess.actor.UserID, true))
		}
		online := s.onlineIn(ctx, r)
		members := make([]map[string]any, 0, len(room.Members))
		for _, m := range room.Members {
			members = append(members, map[string]any{"user_id": m.UserID, "role": m.Role, "name": m.Name, "online": online[m.UserID]})
		}
		reads, err := s.p.Chat.Reads(ctx, sess.actor, in.AppointmentID)
		if err != nil {
			return nil, err
		}
		readList := make([]map[string]any, 0, len(reads))
		for _, rd := range reads {
			readList = append(readList, map[string]any{"user_id": rd.UserID, "seq": rd.Seq})
		}
		return map[string]any{"appointment": wire.NewAppointment(room.Appointment), "members": members,
			"last_seq": room.LastSeq, "reads": readList}, nil
	})

	s.on(sock, sess, "consultation:leave", func(ctx context.Context, sess *session, raw json.RawMessage) (map[string]any, error) {
		in, err := decode[roomInput](raw)
		if err == nil {
			err = in.check()
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

	s.on(sock, sess, "chat:send", func(ctx context.Context, sess *session, raw json.RawMessage) (map[string]any, error) {
		in, err := decode[models.SendInput](raw)
		if err != nil {
			return nil, err
		}
		ctx = context.WithValue(ctx, originKey{}, sock.Id())
		m, _, err := s.p.Chat.Send(ctx, sess.actor, in)
		if err != nil {
			return nil, err
		}
		return map[string]any{"message": wire.NewMessage(m)}, nil
	})

	s.on(sock, sess, "chat:typing", func(ctx context.Context, sess *session, raw json.RawMessage) (map[string]any, error) {
		in, err := decode[typingInput](raw)
		if err == nil {
			err = roomInput{in.AppointmentID}.check()
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
		sock.To(apptRoom(in.AppointmentID)).Emit("chat:typing", map[string]any{
			"appointment_id": in.AppointmentID, "user_id": sess.actor.UserID, "typing": *in.Typing})
		return nil, nil
	})

	s.on(sock, sess, "chat:read", func(ctx context.Context, sess *session, raw json.RawMessage) (map[string]any, error) {
		in, err := decode[readInput](raw)
		if err == nil {
			err = roomInput{in.AppointmentID}.check()
		}
		if err == nil && in.Seq == nil {
			err = models.InvalidFields(map[string]any{"seq": "is required"})
		}
		if err != nil {
			return nil, err
		}
		seq, err := s.p.Chat.MarkRead(ctx, sess.actor, in.AppointmentID, *in.Seq)
		if err != nil {
			return nil, err
		}
		return map[string]any{"seq": seq}, nil
	})

	s.on(sock, sess, "chat:sync", func(ctx context.Context, sess *session, raw json.RawMessage) (map[string]any, error) {
		in, err := decode[syncInput](raw)
		if err == nil {
			err = roomInput{in.AppointmentID}.check()
		}
		if err != nil {
			return nil, err
		}
		ms, err := s.p.Chat.Sync(ctx, sess.actor, in.AppointmentID, in.AfterSeq)
		if err != nil {
			return nil, err
		}
		return map[string]any{"messages": wire.NewMessages(ms), "has_more": len(ms) == models.MaxSyncMessages}, nil
	})
}

func presence(appointmentID, userID string, online bool) map[string]any {
	return map[string]any{"appointment_id": appointmentID, "user_id": userID, "online": online}
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
				s.endCallIfGone(r, id, sess.actor.UserID)
			}
		}
	}()
}
