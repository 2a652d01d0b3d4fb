package realtime

import (
	"context"
	"encoding/json"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"teleconsult/models"
	"teleconsult/wire"
)

// subscribe turns committed domain events into pushes. With the Redis
// adapter a push from any node reaches the sockets of every node.
func (s *Server) subscribe() {
	s.p.Events.Subscribe(func(ctx context.Context, ev models.Event) {
		select {
		case <-s.closed:
			return
		default:
		}
		switch ev.Kind {
		case models.EventChatMessage:
			m := ev.Message
			op := s.io.To(apptRoom(m.AppointmentID))
			if origin, ok := ctx.Value(originKey{}).(socket.SocketId); ok {
				op = op.Except(socket.Room(origin))
			}
			_ = op.Emit("chat:message", plainJSON(wire.NewMessage(*m)))
		case models.EventChatRead:
			_ = s.io.To(apptRoom(ev.Appointment.ID)).Emit("chat:read", map[string]any{
				"appointment_id": ev.Appointment.ID, "user_id": ev.UserID, "seq": ev.ReadSeq})
		case models.EventAppointmentStarted, models.EventAppointmentCompleted, models.EventAppointmentCancelled,
			models.EventAppointmentNoShow, models.EventAppointmentRescheduled:
			a := ev.Appointment
			payload := map[string]any{"appointment_id": a.ID, "status": string(a.Status), "appointment": plainJSON(wire.NewAppointment(*a))}
			_ = s.io.To(apptRoom(a.ID), userRoom(a.PatientID), userRoom(a.DoctorID)).Emit("consultation:status", payload)
		case models.EventDiagnosisReady:
			a := ev.Appointment
			_ = s.io.To(apptRoom(a.ID)).Emit("consultation:status", map[string]any{
				"appointment_id": a.ID, "status": string(a.Status), "appointment": plainJSON(wire.NewAppointment(*a))})
		case models.EventNotified:
			s.pushNotifications(ctx, ev)
		case models.EventUserDisabled:
			s.io.In(userRoom(ev.UserID)).DisconnectSockets(true)
		}
	})
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

// plainJSON turns a payload into maps, lists and scalars as its JSON
// encoding has them. Broadcasts cross nodes through the Redis adapter as
// MessagePack, which knows nothing of json tags or time.Time.
func plainJSON(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// pushNotifications emits each stored notification to its user's devices.
// An announcement's batch only goes to the users online now (one presence
// look-up per batch, rather than one broadcast per recipient).
func (s *Server) pushNotifications(ctx context.Context, ev models.Event) {
	var online map[string]bool
	if ev.Audience != "" {
		room := socket.Room("role:all")
		switch ev.Audience {
		case models.AudiencePatients:
			room = roleRoom(models.RolePatient)
		case models.AudienceDoctors:
			room = roleRoom(models.RoleDoctor)
		}
		online = s.onlineIn(ctx, room)
	}
	for _, n := range ev.Notifications {
		if online != nil && !online[n.UserID] {
			continue
		}
		_ = s.io.To(userRoom(n.UserID)).Emit("notification", plainJSON(wire.NewNotification(n)))
	}
}

func roleRoom(r models.Role) socket.Room { return socket.Room("role:" + string(r)) }
