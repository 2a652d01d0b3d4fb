package realtime

import (
	"context"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"teleconsult/models"
	"teleconsult/wire"
)

// The pushes below are called by the outbox dispatcher (OnEvent, Notify;
// wired in cmd/teleconsult) for changes that must reach people at least
// once. With the Redis adapter a push from any node
// reaches the sockets of every node.

// OnEvent pushes what a committed domain event changes for connected
// clients: consultation:status to the room and both parties' devices, and
// the end of a disabled user's sockets. A cancellation also empties the
// appointment's room on every node: nothing more is relayed there.
func (s *Server) OnEvent(ctx context.Context, env models.Envelope) error {
	if s.stopped() {
		return nil
	}
	switch ev := env.Event.(type) {
	case models.UserDisabled:
		s.io.In(userRoom(ev.UserID)).DisconnectSockets(true)
		return nil
	case models.PasswordChanged:
		// Every other session of the user ends; the one that changed it stays.
		op := s.io.In(userRoom(ev.UserID))
		if ev.KeepSessionID != "" {
			op = op.Except(sessionRoom(ev.KeepSessionID))
		}
		op.DisconnectSockets(true)
		return nil
	case models.SessionEnded:
		s.io.In(sessionRoom(ev.SessionID)).DisconnectSockets(true)
		return nil
	case models.AppointmentBooked, models.ReminderDue, models.AnnouncementPosted:
		return nil // notifications only
	case models.MessagePosted:
		// A call that ended, a consultation step, an upload: to the room,
		// and the count to the recipients' other screens.
		s.relayMessage(ev.Message, "")
		s.tellUnread(ev.Message, ev.Recipients())
		return nil
	}
	a, ok := models.AppointmentOf(env.Event)
	if !ok {
		return nil
	}
	if a.Payment != nil {
		// A broadcast never carries what completes a payment.
		p := a.Payment.SeenBy(models.Actor{})
		a.Payment = &p
	}
	payload := rawJSON(wire.Status{AppointmentID: a.ID, Status: string(a.Status), Appointment: wire.NewAppointment(a)})
	if _, diagnosis := env.Event.(models.DiagnosisReady); diagnosis {
		return s.io.To(apptRoom(a.ID)).Emit("consultation:status", payload)
	}
	if _, cancelled := env.Event.(models.AppointmentCancelled); cancelled {
		// The room empties before the status goes out, so that no relay
		// passes once a client has seen "cancelled": here at once, on the
		// other nodes through the adapter. Only the two participants'
		// sockets can be in the room, and their user rooms get the status.
		room := apptRoom(a.ID)
		s.io.Local().In(room).SocketsLeave(room)
		s.io.In(room).SocketsLeave(room)
	}
	// One broadcast per user room rather than one to several rooms: the
	// Redis adapter (v3.0.2, onMessage) drops on the receiving nodes every
	// broadcast addressed to more than one room. The participants' user
	// rooms hold every socket of the appointment's room.
	to := []string{a.PatientID, a.DoctorID}
	if patientOnly(env.Event) {
		to = to[:1]
	}
	for _, userID := range to {
		if err := s.io.To(userRoom(userID)).Emit("consultation:status", payload); err != nil {
			return err
		}
	}
	return nil
}

// patientOnly: a payment's news, and the end of a hold the doctor never
// heard of, are the patient's alone.
func patientOnly(ev models.Event) bool {
	switch e := ev.(type) {
	case models.PaymentSucceeded, models.PaymentReleased, models.PaymentRefunded:
		return true
	case models.AppointmentCancelled:
		return e.Unpaid
	}
	return false
}

// Notify emits each stored notification to its user's devices. A large
// batch (an announcement) only goes to the users online now: one presence
// look-up rather than one broadcast per recipient.
func (s *Server) Notify(ctx context.Context, ns []models.Notification) error {
	if s.stopped() {
		return nil
	}
	var online map[string]bool
	if len(ns) > 20 {
		online = s.onlineIn(ctx, socket.Room("role:all"))
	}
	for _, n := range ns {
		if online != nil && !online[n.UserID] {
			continue
		}
		if err := s.io.To(userRoom(n.UserID)).Emit("notification", rawJSON(wire.NewNotification(n))); err != nil {
			return err
		}
	}
	return nil
}

// relayMessage emits chat:message to the room, except the socket that sent
// it (it has the ack).
func (s *Server) relayMessage(m models.Message, except socket.SocketId) {
	payload := rawJSON(wire.NewMessage(m))
	if s.opts.Redis == nil {
		s.fan.do(func() { s.deliverKept(apptRoom(m.AppointmentID), except, "chat:message", payload) })
		return
	}
	s.fan.do(func() {
		op := s.io.To(apptRoom(m.AppointmentID))
		if except != "" {
			op = op.Except(socket.Room(except))
		}
		_ = op.Emit("chat:message", payload)
	})
}

func (s *Server) stopped() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// sleep waits ms milliseconds or until ctx ends.
func sleep(ctx context.Context, ms int) {
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func roleRoom(r models.Role) socket.Room { return socket.Room("role:" + string(r)) }
