package realtime_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"teleconsult/models"
	"teleconsult/modeltest"
)

// ICE candidates are relayed only while a call rings or runs: conflict
// before, relayed while ringing and active (whichever device, whatever it
// was told), conflict again once it ended, by hangup or ring timeout.
func TestICEOnlyDuringACall(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	c, patient, doctor, _ := callRoom(t, r)
	id := c.Appt.ID
	ice := map[string]any{"appointment_id": id, "candidate": map[string]any{"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host", "sdpMid": "0"}}
	noCall := func(when string) {
		t.Helper()
		if rep := ack(t, patient, "rtc:ice", ice); rep.code() != models.ECONFLICT {
			t.Fatalf("the patient's candidate %s: %+v, want conflict", when, rep)
		}
		if rep := ack(t, doctor, "rtc:ice", ice); rep.code() != models.ECONFLICT {
			t.Fatalf("the doctor's candidate %s: %+v, want conflict", when, rep)
		}
	}
	noCall("before any call")

	mustOK(t, patient, "rtc:invite", map[string]any{"appointment_id": id, "media": "audio"})
	next(t, doctor, "rtc:invite")
	mustOK(t, doctor, "rtc:ice", ice) // ringing
	next(t, patient, "rtc:ice")
	mustOK(t, doctor, "rtc:accept", map[string]any{"appointment_id": id})
	next(t, patient, "rtc:accept")
	mustOK(t, patient, "rtc:ice", ice) // active
	next(t, doctor, "rtc:ice")
	// A device that saw none of it (joined after the invite) is let
	// through too: it asks the database.
	laptop := r.dial(c.PatientT)
	mustOK(t, laptop, "consultation:join", map[string]any{"appointment_id": id})
	mustOK(t, laptop, "rtc:ice", ice)
	next(t, doctor, "rtc:ice")

	mustOK(t, doctor, "rtc:hangup", map[string]any{"appointment_id": id})
	next(t, patient, "rtc:hangup")
	next(t, laptop, "rtc:hangup")
	noCall("after the hangup")
	if rep := ack(t, laptop, "rtc:ice", ice); rep.code() != models.ECONFLICT {
		t.Fatalf("the laptop's candidate after the hangup: %+v, want conflict", rep)
	}

	// A ring timeout ends it as well.
	r.P.Calls.RingTimeout = 300 * time.Millisecond
	mustOK(t, doctor, "rtc:invite", map[string]any{"appointment_id": id, "media": "video"})
	next(t, patient, "rtc:invite")
	mustOK(t, patient, "rtc:ice", ice)
	next(t, doctor, "rtc:ice")
	if got := next(t, patient, "rtc:hangup"); got["reason"] != "timeout" {
		t.Fatalf("hangup %v, want the ring timeout", got)
	}
	next(t, doctor, "rtc:hangup")
	noCall("after the ring timed out")
	time.Sleep(200 * time.Millisecond)
	if n := doctor.Count("rtc:ice"); n != 3 {
		t.Fatalf("the doctor received %d candidates, want the 3 sent during calls", n)
	}
	if n := patient.Count("rtc:ice"); n != 1 {
		t.Fatalf("the patient received %d candidates, want the 1 sent during a call", n)
	}
}

// A burst of candidates sent right behind an offer, without waiting for
// acknowledgements, reaches the other member after the offer and in the
// order sent, every one of them.
func TestICEKeepsItsPlaceBehindTheOffer(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	c, patient, doctor, _ := callRoom(t, r)
	id := c.Appt.ID
	mustOK(t, patient, "rtc:invite", map[string]any{"appointment_id": id, "media": "video"})
	next(t, doctor, "rtc:invite")
	mustOK(t, doctor, "rtc:accept", map[string]any{"appointment_id": id})
	next(t, patient, "rtc:accept")

	const n = 24 // within the event burst
	if err := patient.Emit("rtc:offer", map[string]any{"appointment_id": id, "sdp": map[string]any{"type": "offer", "sdp": "v=0"}}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		cand := map[string]any{"candidate": fmt.Sprintf("candidate:%d 1 udp 1 127.0.0.1 %d typ host", i, 5000+i), "sdpMid": "0"}
		if err := patient.Emit("rtc:ice", map[string]any{"appointment_id": id, "candidate": cand}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		got := next(t, doctor, "rtc:ice")
		cand, _ := got["candidate"].(map[string]any)
		if want := fmt.Sprintf("candidate:%d ", i); !strings.HasPrefix(fmt.Sprint(cand["candidate"]), want) {
			t.Fatalf("candidate %d arrived as %v", i, cand["candidate"])
		}
		if got["from_user_id"] != c.Patient.ID {
			t.Fatalf("candidate %d from %v", i, got["from_user_id"])
		}
	}
	order := doctor.Order()
	offer := slices.Index(order, "rtc:offer")
	if first := slices.Index(order, "rtc:ice"); offer < 0 || first < offer {
		t.Fatalf("the doctor received %v: a candidate before the offer", order)
	}
	if n := patient.Count("rtc:ice"); n != 0 {
		t.Fatalf("the sender received %d of its own candidates", n)
	}
}
