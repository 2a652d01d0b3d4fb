package realtime

import (
	"context"
	"encoding/json"
	"fmt"

	"teleconsult/models"
)

// ICE candidates are the hottest event (dozens per call set-up), and are
// relayed only while the room has a call ringing or running. Rather than
// ask the database for each, a session remembers the calls it knows to be
// ringing or active, per room: its own invite, accept, reject and hangup
// set and clear them, and so do the rtc:* events this socket is sent,
// whichever node relayed them (the callee learns of the invite, the
// caller of the accept, both of a hangup or a ring timeout). On a miss
// the database is asked once (Calls.Current) and a call it reports is
// remembered; "no call" is never remembered, so a missed invite cannot
// block a call, it only costs a query.

// callKnown reports whether the session knows a call rings or runs in
// the appointment's room.
func (sess *session) callKnown(appointmentID string) bool {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	_, ok := sess.calls[appointmentID]
	return ok
}

// knownCall returns the call the session knows in the room ("" if none).
func (sess *session) knownCall(appointmentID string) string {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	return sess.calls[appointmentID]
}

func (sess *session) callStarted(appointmentID, callID string) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	sess.calls[appointmentID] = callID
}

// callEnded forgets the room's call (only callID, when both are known).
func (sess *session) callEnded(appointmentID, callID string) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if known, ok := sess.calls[appointmentID]; ok && (callID == "" || known == "" || known == callID) {
		delete(sess.calls, appointmentID)
	}
}

// observeCalls is the socket's outgoing listener: it follows the call
// events the socket is sent.
func (sess *session) observeCalls(args ...any) {
	if len(args) < 2 {
		return
	}
	name, _ := args[0].(string)
	switch name {
	case "rtc:invite", "rtc:accept", "rtc:reject", "rtc:hangup":
	default:
		return
	}
	id, callID := stringField(args[1], "appointment_id"), stringField(args[1], "call_id")
	if id == "" {
		return
	}
	if name == "rtc:invite" || name == "rtc:accept" {
		sess.callStarted(id, callID)
	} else {
		sess.callEnded(id, callID)
	}
}

// stringField reads a string field of a payload as broadcasts carry it:
// JSON encoded once (json.RawMessage here, []byte once it crossed nodes
// through the Redis adapter), or a decoded object.
func stringField(payload any, key string) string {
	switch m := payload.(type) {
	case json.RawMessage:
		return jsonStringField(m, key)
	case []byte:
		return jsonStringField(m, key)
	case map[string]any:
		v, _ := m[key].(string)
		return v
	case map[any]any:
		v, _ := m[key].(string)
		return v
	}
	return ""
}

func jsonStringField(b []byte, key string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return ""
	}
	var v string
	_ = json.Unmarshal(m[key], &v)
	return v
}

var errNoCall = models.Errorf(models.ECONFLICT, "no call is ringing or running in this consultation")

// checkCall requires a ringing or active call in the room: from memory,
// else from the database.
func (s *Server) checkCall(ctx context.Context, sess *session, appointmentID string) error {
	if sess.callKnown(appointmentID) {
		return nil
	}
	cs, err := s.svc.Calls.Current(ctx, sess.actor, appointmentID)
	if err != nil {
		if models.ErrorCode(err) == models.ENOTFOUND {
			return errNoCall
		}
		return fmt.Errorf("current call: %w", err)
	}
	sess.callStarted(appointmentID, cs.CallID)
	return nil
}
