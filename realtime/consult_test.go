package realtime_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"teleconsult/models"
	"teleconsult/modeltest"
	"teleconsult/realtime"
	"teleconsult/realtime/sioclient"
)

// noneOf fails if c was sent event (after a moment for stragglers).
func noneOf(t *testing.T, c *sioclient.Client, event, who string) {
	t.Helper()
	time.Sleep(200 * time.Millisecond)
	if n := c.Count(event); n != 0 {
		t.Fatalf("%s got %d %s", who, n, event)
	}
}

// A call rings on every device of the callee, whether or not it joined
// the room, and is answered from any of them; its other devices learn it
// was answered, and the end reaches them all. The call leaves its record
// in the room.
func TestCallRingsOnEveryDeviceOfTheCallee(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	c, patient, doctor, stranger := callRoom(t, r)
	id := c.Appt.ID
	doctorPhone := r.dial(c.DoctorT)    // on another screen: not in the room
	patientTablet := r.dial(c.PatientT) // the caller's other device
	defer doctorPhone.Close()
	defer patientTablet.Close()

	inv := mustOK(t, patient, "rtc:invite", map[string]any{"appointment_id": id, "media": "video"})
	for name, cl := range map[string]*sioclient.Client{"the doctor's phone": doctorPhone, "the doctor in the room": doctor} {
		got := next(t, cl, "rtc:invite")
		if got["call_id"] != inv.Raw["call_id"] || got["media"] != "video" || got["from_user_id"] != c.Patient.ID ||
			got["from_name"] != c.Patient.Name || got["appointment_id"] != id {
			t.Fatalf("%s was rung with %v", name, got)
		}
	}
	noneOf(t, patientTablet, "rtc:invite", "the caller's other device")
	noneOf(t, stranger, "rtc:invite", "a stranger")

	// Answered from the phone: the caller and the doctor's other screen learn it.
	mustOK(t, doctorPhone, "rtc:accept", map[string]any{"appointment_id": id})
	for name, cl := range map[string]*sioclient.Client{"the caller": patient, "the doctor's other screen": doctor} {
		if got := next(t, cl, "rtc:accept"); got["from_user_id"] != c.Doctor.ID || got["call_id"] != inv.Raw["call_id"] {
			t.Fatalf("%s learnt of the answer as %v", name, got)
		}
	}
	mustOK(t, patient, "rtc:hangup", map[string]any{"appointment_id": id})
	if got := next(t, doctorPhone, "rtc:hangup"); got["reason"] != "hangup" {
		t.Fatalf("the phone learnt of the end as %v", got)
	}
	// Both in the room see the call recorded, as a message with its seq.
	for _, cl := range []*sioclient.Client{patient, doctor} {
		m := next(t, cl, "chat:message")
		call, _ := m["call"].(map[string]any)
		if m["kind"] != "call" || call == nil || call["outcome"] != "completed" || call["media"] != "video" || m["sender_id"] != c.Patient.ID {
			t.Fatalf("call record %v", m)
		}
	}
	noneOf(t, stranger, "rtc:hangup", "a stranger")
}

// An unanswered call is recorded as missed, and the callee's screens
// outside the room get the room's unread count with it.
func TestMissedCallIsRecordedAndCounted(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	r.P.Calls.RingTimeout = 300 * time.Millisecond
	c := r.people(models.StatusBooked)
	id := c.Appt.ID
	patient := r.dial(c.PatientT)
	mustOK(t, patient, "consultation:join", map[string]any{"appointment_id": id})
	doctorElsewhere := r.dial(c.DoctorT) // on the agenda, not in the room

	mustOK(t, patient, "rtc:invite", map[string]any{"appointment_id": id, "media": "audio"})
	next(t, doctorElsewhere, "rtc:invite")
	if got := next(t, doctorElsewhere, "rtc:hangup"); got["reason"] != "timeout" {
		t.Fatalf("ring timeout reached the doctor as %v", got)
	}
	m := next(t, patient, "chat:message")
	if call, _ := m["call"].(map[string]any); m["kind"] != "call" || call["outcome"] != "missed" {
		t.Fatalf("missed call recorded as %v", m)
	}
	u := next(t, doctorElsewhere, "chat:unread")
	last, _ := u["last_message"].(map[string]any)
	if call, _ := last["call"].(map[string]any); u["appointment_id"] != id || u["unread_count"] != 1.0 || last["kind"] != "call" || last["seq"] != m["seq"] || call["outcome"] != "missed" {
		t.Fatalf("chat:unread %v after a missed call (message %v)", u, m)
	}
}

// Text from the other party reaches the reader's screens outside the room
// as chat:unread; reading it tells all their screens the count is down.
func TestUnreadReachesOtherScreens(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	c, patient, doctor, stranger := callRoom(t, r)
	id := c.Appt.ID
	patientList := r.dial(c.PatientT) // the appointment list, in another tab
	defer patientList.Close()

	for i, text := range []string{"hello", "how are you feeling?"} {
		mustOK(t, doctor, "chat:send", map[string]any{"appointment_id": id, "client_msg_id": "d" + text, "text": text})
		u := next(t, patientList, "chat:unread")
		last, _ := u["last_message"].(map[string]any)
		if u["unread_count"] != float64(i+1) || last["text"] != text || last["sender_id"] != c.Doctor.ID {
			t.Fatalf("after %q: %v", text, u)
		}
	}
	// The patient in the room does not get counts for the room they are in;
	// the sender never gets them for their own words.
	noneOf(t, patient, "chat:unread", "the patient in the room")
	noneOf(t, doctor, "chat:unread", "the sender")
	noneOf(t, stranger, "chat:unread", "a stranger")

	rep := mustOK(t, patient, "chat:read", map[string]any{"appointment_id": id, "seq": 2})
	_ = rep
	for name, cl := range map[string]*sioclient.Client{"the list tab": patientList, "the room tab": patient} {
		if u := next(t, cl, "chat:unread"); u["unread_count"] != 0.0 || u["appointment_id"] != id {
			t.Fatalf("%s after reading: %v", name, u)
		}
	}
}

// A device that reloads during a call finds the call in the join answer,
// and the call survives while it is back within the grace period.
func TestRejoinDuringACall(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t), func(o *realtime.Options) { o.CallGrace = 2 * time.Second })
	c, patient, doctor, _ := callRoom(t, r)
	id := c.Appt.ID
	inv := mustOK(t, patient, "rtc:invite", map[string]any{"appointment_id": id, "media": "video"})
	mustOK(t, doctor, "rtc:accept", map[string]any{"appointment_id": id})

	_ = patient.Abort() // the patient reloads the page
	again := r.dial(c.PatientT)
	join := mustOK(t, again, "consultation:join", map[string]any{"appointment_id": id})
	call, _ := join.Raw["call"].(map[string]any)
	if call == nil || call["call_id"] != inv.Raw["call_id"] || call["state"] != "active" || call["media"] != "video" || call["caller_id"] != c.Patient.ID {
		t.Fatalf("join answer during the call: %v", join.Raw)
	}
	if limits, _ := join.Raw["limits"].(map[string]any); limits["message_max_runes"] != float64(models.MaxMessageRunes) {
		t.Fatalf("join answer's limits: %v", join.Raw["limits"])
	}
	// Past the grace period the call still runs: the patient came back.
	time.Sleep(2500 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if cs, err := r.P.Calls.Current(ctx, models.Actor{UserID: c.Doctor.ID, Role: models.RoleDoctor}, id); err != nil || cs.CallID != inv.Raw["call_id"] {
		t.Fatalf("the call after the reload: %+v, %v", cs, err)
	}
	if n := doctor.Count("rtc:hangup"); n != 0 {
		t.Fatalf("the doctor was told the call ended (%d)", n)
	}
	// An idle room answers call: null.
	mustOK(t, again, "rtc:hangup", map[string]any{"appointment_id": id})
	if join := mustOK(t, doctor, "consultation:join", map[string]any{"appointment_id": id}); join.Raw["call"] != nil {
		t.Fatalf("join answer of an idle room: call = %v", join.Raw["call"])
	}
}

// A device leaving the room ends only a call it knew of, and only one its
// user's absence ends: a call that starts ringing after the callee's
// device left (a reload of another screen) keeps ringing past the grace.
func TestALeaveDoesNotEndALaterCall(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t), func(o *realtime.Options) { o.CallGrace = 400 * time.Millisecond })
	c := r.people(models.StatusBooked)
	id := c.Appt.ID
	patient := r.dial(c.PatientT)
	mustOK(t, patient, "consultation:join", map[string]any{"appointment_id": id})
	doctorTab := r.dial(c.DoctorT)
	mustOK(t, doctorTab, "consultation:join", map[string]any{"appointment_id": id})
	doctorPhone := r.dial(c.DoctorT) // on the agenda
	_ = doctorTab.Abort()            // the doctor's room tab goes away

	mustOK(t, patient, "rtc:invite", map[string]any{"appointment_id": id, "media": "video"})
	next(t, doctorPhone, "rtc:invite")
	time.Sleep(900 * time.Millisecond) // past the grace of the tab that left
	if n := doctorPhone.Count("rtc:hangup") + patient.Count("rtc:hangup"); n != 0 {
		t.Fatalf("the ringing call was ended by an earlier departure (%d hangups)", n)
	}
	mustOK(t, doctorPhone, "rtc:accept", map[string]any{"appointment_id": id})
}

// A device that connects while a call rings for its user (a reload) rings
// too; one that connects after the ring ended does not.
func TestADeviceConnectingDuringTheRingRings(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	c := r.people(models.StatusBooked)
	id := c.Appt.ID
	patient := r.dial(c.PatientT)
	mustOK(t, patient, "consultation:join", map[string]any{"appointment_id": id})
	inv := mustOK(t, patient, "rtc:invite", map[string]any{"appointment_id": id, "media": "audio"})

	reloaded := r.dial(c.DoctorT)
	got := next(t, reloaded, "rtc:invite")
	if got["call_id"] != inv.Raw["call_id"] || got["from_name"] != c.Patient.Name || got["media"] != "audio" || got["appointment_id"] != id {
		t.Fatalf("the reloaded screen was rung with %v", got)
	}
	// The caller's own new device does not ring.
	noneOf(t, r.dial(c.PatientT), "rtc:invite", "the caller's new device")
	mustOK(t, reloaded, "rtc:reject", map[string]any{"appointment_id": id})
	noneOf(t, r.dial(c.DoctorT), "rtc:invite", "a screen opened after the call ended")
}

// A burst of messages ends with the right count on the reader's other
// screens, however the look-ups overlap.
func TestUnreadAfterABurstIsExact(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	c, _, doctor, _ := callRoom(t, r)
	id := c.Appt.ID
	list := r.dial(c.PatientT)
	defer list.Close()
	const n = 25
	for i := range n {
		if err := doctor.Emit("chat:send", map[string]any{"appointment_id": id, "client_msg_id": "b" + strconv.Itoa(i), "text": "line " + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		u := next(t, list, "chat:unread")
		if u["unread_count"] == float64(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("last count %v, want %d", u["unread_count"], n)
		}
	}
}
