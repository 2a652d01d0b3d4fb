package realtime

import (
	"context"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"teleconsult/models"
	"teleconsult/wire"
)

// chat:unread keeps a participant's other screens current: when a message
// arrives in a room, the recipient's devices that have not joined it get
// the room's unread count and last message; when a reader's marker moves,
// all of their devices do. The count is the database's (Chat.Unread), so
// every device agrees whatever it missed.

// joined remembers the other participants of a room the socket joined.
func (sess *session) joined(appointmentID string, peers []string) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	sess.peers[appointmentID] = peers
}

func (sess *session) peersIn(appointmentID string) []string {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	return sess.peers[appointmentID]
}

// tellUnread sends chat:unread for a new message to each recipient's
// devices outside its room (recipients: the participants but its sender).
func (s *Server) tellUnread(m models.Message, recipients []string) {
	for _, userID := range recipients {
		s.sendUnread(userID, m.AppointmentID, true)
	}
}

// sendUnread looks up userID's unread state of a room and sends it to
// their devices (only those outside the room when outside is set). On a
// single node it is skipped when there is no such device. The look-up runs
// off the caller's path, at most one at a time per user, room and audience:
// a message arriving while one runs asks it to look once more when done,
// so a burst of messages costs two look-ups, not one each, and the last
// count sent is never older than the last message.
func (s *Server) sendUnread(userID, appointmentID string, outside bool) {
	if s.stopped() || (outside && !s.mayHaveDeviceOutside(userID, apptRoom(appointmentID))) {
		return
	}
	k := unreadKey{userID: userID, appointmentID: appointmentID, outside: outside}
	s.unreadMu.Lock()
	if s.unreadRuns == nil {
		s.unreadRuns = map[unreadKey]*bool{}
	}
	if again, running := s.unreadRuns[k]; running {
		*again = true
		s.unreadMu.Unlock()
		return
	}
	s.unreadRuns[k] = new(bool)
	s.unreadMu.Unlock()
	go func() {
		for {
			s.lookUpUnread(k)
			s.unreadMu.Lock()
			again := s.unreadRuns[k]
			if !*again {
				delete(s.unreadRuns, k)
				s.unreadMu.Unlock()
				return
			}
			*again = false
			s.unreadMu.Unlock()
		}
	}()
}

// unreadKey is one chat:unread look-up: whose, of which room, to which devices.
type unreadKey struct {
	userID, appointmentID string
	outside               bool
}

func (s *Server) lookUpUnread(k unreadKey) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u, err := s.svc.Chat.Unread(ctx, models.Actor{UserID: k.userID}, k.appointmentID)
	if err != nil {
		s.log.Warn("unread look-up failed", "appointment_id", k.appointmentID, "user_id", k.userID, "err", err)
		return
	}
	op := s.io.To(userRoom(k.userID))
	if k.outside {
		op = op.Except(apptRoom(k.appointmentID))
	}
	_ = op.Emit("chat:unread", rawJSON(wire.NewUnread(u)))
}

// mayHaveDeviceOutside reports whether userID may have a socket that is not
// in room: exactly on a single node, always with the Redis adapter (other
// nodes' sockets are not known here without asking them).
func (s *Server) mayHaveDeviceOutside(userID string, room socket.Room) bool {
	if s.opts.Redis != nil {
		return true
	}
	rooms := s.io.Sockets().Adapter().Rooms()
	mine, ok := rooms.Load(userRoom(userID))
	if !ok {
		return false
	}
	in, _ := rooms.Load(room)
	for _, id := range mine.Keys() {
		if in == nil || !in.Has(id) {
			return true
		}
	}
	return false
}
