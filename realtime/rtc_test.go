package realtime_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"teleconsult/models"
	"teleconsult/modeltest"
	"teleconsult/realtime"
	"teleconsult/realtime/sioclient"
)

// callRoom puts a patient and a doctor in a room, plus a stranger outside.
func callRoom(t *testing.T, r *rig) (c people, patient, doctor, stranger *sioclient.Client) {
	c = r.people(models.StatusBooked)
	patient, doctor, stranger = r.dial(c.PatientT), r.dial(c.DoctorT), r.dial(c.StrangerT)
	room := map[string]any{"appointment_id": c.Appt.ID}
	mustOK(t, patient, "consultation:join", room)
	mustOK(t, doctor, "consultation:join", room)
	return
}

func TestSignalingReachesOnlyTheOtherParticipant(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	c, patient, doctor, stranger := callRoom(t, r)
	id := c.Appt.ID
	patient2 := r.dial(c.PatientT) // the patient's second device, not in the room
	mustOK(t, patient2, "consultation:join", map[string]any{"appointment_id": id})

	inv := mustOK(t, patient, "rtc:invite", map[string]any{"appointment_id": id, "media": "video"})
	got := next(t, doctor, "rtc:invite")
	if got["from_user_id"] != c.Patient.ID || got["media"] != "video" || got["call_id"] != inv.Raw["call_id"] {
		t.Fatalf("invite relayed as %v", got)
	}
	// A second call while one rings is busy, from either side.
	if rep := ack(t, doctor, "rtc:invite", map[string]any{"appointment_id": id, "media": "audio"}); rep.code() != models.EBUSY {
		t.Fatalf("second invite: %+v", rep)
	}
	// The caller cannot accept their own call.
	if rep := ack(t, patient, "rtc:accept", map[string]any{"appointment_id": id}); rep.code() != models.ECONFLICT {
		t.Fatalf("caller accepted own call: %+v", rep)
	}
	mustOK(t, doctor, "rtc:accept", map[string]any{"appointment_id": id})
	if got := next(t, patient, "rtc:accept"); got["from_user_id"] != c.Doctor.ID {
		t.Fatalf("accept relayed as %v", got)
	}
	mustOK(t, patient, "rtc:offer", map[string]any{"appointment_id": id, "sdp": map[string]any{"type": "offer", "sdp": "v=0..."}})
	if got := next(t, doctor, "rtc:offer"); got["sdp"].(map[string]any)["sdp"] != "v=0..." || got["from_user_id"] != c.Patient.ID {
		t.Fatalf("offer relayed as %v", got)
	}
	mustOK(t, doctor, "rtc:answer", map[string]any{"appointment_id": id, "sdp": "v=0 answer"})
	if got := next(t, patient, "rtc:answer"); got["sdp"] != "v=0 answer" {
		t.Fatalf("answer relayed as %v", got)
	}
	mustOK(t, doctor, "rtc:ice", map[string]any{"appointment_id": id, "candidate": map[string]any{"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host", "sdpMid": "0"}})
	next(t, patient, "rtc:ice")

	// Limits.
	if rep := ack(t, patient, "rtc:offer", map[string]any{"appointment_id": id, "sdp": strings.Repeat("a", 65<<10)}); rep.code() != models.EINVALID {
		t.Fatalf("oversized sdp: %+v", rep)
	}
	if rep := ack(t, patient, "rtc:ice", map[string]any{"appointment_id": id, "candidate": strings.Repeat("a", 3<<10)}); rep.code() != models.EINVALID {
		t.Fatalf("oversized candidate: %+v", rep)
	}
	if rep := ack(t, patient, "rtc:ice", map[string]any{"appointment_id": id}); rep.code() != models.EINVALID {
		t.Fatalf("missing candidate: %+v", rep)
	}
	// A stranger cannot signal into the room nor hear it.
	for _, ev := range []string{"rtc:invite", "rtc:offer", "rtc:ice", "rtc:hangup", "rtc:accept"} {
		rep := ack(t, stranger, ev, map[string]any{"appointment_id": id, "media": "audio", "sdp": "x", "candidate": "x"})
		// Call-state events answer as for an unknown appointment; relays
		// refuse any socket outside the room.
		want := models.ENOTFOUND
		if ev == "rtc:offer" || ev == "rtc:ice" {
			want = models.EFORBIDDEN
		}
		if rep.code() != want {
			t.Fatalf("stranger %s: %+v", ev, rep)
		}
	}
	mustOK(t, doctor, "rtc:hangup", map[string]any{"appointment_id": id})
	if got := next(t, patient, "rtc:hangup"); got["reason"] != "hangup" {
		t.Fatalf("hangup relayed as %v", got)
	}
	time.Sleep(200 * time.Millisecond)
	for _, ev := range []string{"rtc:invite", "rtc:offer", "rtc:answer", "rtc:ice", "rtc:accept", "rtc:hangup"} {
		if n := stranger.Count(ev); n != 0 {
			t.Fatalf("the stranger heard %d %s", n, ev)
		}
		// Signals go to the other party, never back to the sender's devices.
		if n := patient2.Count(ev); ev != "rtc:accept" && ev != "rtc:answer" && ev != "rtc:ice" && ev != "rtc:hangup" && n != 0 {
			t.Fatalf("the sender's other device got %d %s", n, ev)
		}
	}
	// Idle again: a new call may ring.
	mustOK(t, doctor, "rtc:invite", map[string]any{"appointment_id": id, "media": "audio"})
}

func TestUnansweredInviteTimesOut(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	r.P.Calls.RingTimeout = 300 * time.Millisecond
	c, patient, doctor, _ := callRoom(t, r)
	mustOK(t, patient, "rtc:invite", map[string]any{"appointment_id": c.Appt.ID, "media": "audio"})
	for _, cl := range []*sioclient.Client{patient, doctor} {
		if got := next(t, cl, "rtc:hangup"); got["reason"] != "timeout" {
			t.Fatalf("timeout hangup %v", got)
		}
	}
	mustOK(t, doctor, "rtc:invite", map[string]any{"appointment_id": c.Appt.ID, "media": "audio"})
}

func TestCallEndsWhenAPartyLeavesForGood(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t), func(o *realtime.Options) { o.CallGrace = 300 * time.Millisecond })
	c, patient, doctor, _ := callRoom(t, r)
	mustOK(t, patient, "rtc:invite", map[string]any{"appointment_id": c.Appt.ID, "media": "video"})
	mustOK(t, doctor, "rtc:accept", map[string]any{"appointment_id": c.Appt.ID})
	_ = patient.Close()
	if got := next(t, doctor, "rtc:hangup"); got["reason"] != "disconnected" || got["from_user_id"] != c.Patient.ID {
		t.Fatalf("hangup after disconnect %v", got)
	}
}

func TestTURNCredentials(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	r.Clock.Set(now)
	ice := r.P.Opts.ICE
	ice.STUNURLs = []string{"stun:stun.example.org:3478"}
	u := modeltest.MustUser(t, r.P, models.RolePatient, "turn@example.com")
	servers, ttl := ice.Servers(models.Actor{UserID: u.ID, Role: u.Role}, r.Clock.Now())
	if len(servers) != 2 || ttl != ice.TURNTTL {
		t.Fatalf("servers %+v ttl %v", servers, ttl)
	}
	turn := servers[1]
	exp, user, ok := strings.Cut(turn.Username, ":")
	if !ok || user != u.ID {
		t.Fatalf("username %q", turn.Username)
	}
	expiry, _ := strconv.ParseInt(exp, 10, 64)
	if time.Unix(expiry, 0).UTC() != now.Add(ice.TURNTTL) {
		t.Fatalf("credential expires %v, want %v", time.Unix(expiry, 0).UTC(), now.Add(ice.TURNTTL))
	}
	m := hmac.New(sha1.New, []byte(ice.TURNSecret))
	m.Write([]byte(turn.Username))
	if turn.Credential != base64.StdEncoding.EncodeToString(m.Sum(nil)) {
		t.Fatal("the credential is not base64(HMAC-SHA1(secret, username))")
	}
}

// Two pion peers reach "connected" through our signaling alone and send a
// message over a data channel.
func TestWebRTCThroughSignaling(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	c, patient, doctor, _ := callRoom(t, r)
	id := c.Appt.ID
	mustOK(t, patient, "rtc:invite", map[string]any{"appointment_id": id, "media": "audio"})
	next(t, doctor, "rtc:invite")
	mustOK(t, doctor, "rtc:accept", map[string]any{"appointment_id": id})
	next(t, patient, "rtc:accept")

	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	peer := func(cl *sioclient.Client) *webrtc.PeerConnection {
		pc, err := api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = pc.Close() })
		pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
			if cand != nil {
				_ = cl.Emit("rtc:ice", map[string]any{"appointment_id": id, "candidate": cand.ToJSON()})
			}
		})
		return pc
	}
	caller, callee := peer(patient), peer(doctor)
	got := make(chan string, 1)
	callee.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnMessage(func(m webrtc.DataChannelMessage) { got <- string(m.Data) })
	})
	dc, err := caller.CreateDataChannel("chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	dc.OnOpen(func() { _ = dc.SendText("hello over webrtc") })

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Each side applies the other's candidates as they arrive.
	relayICE := func(cl *sioclient.Client, pc *webrtc.PeerConnection) {
		for {
			raw, err := cl.Next(ctx, "rtc:ice")
			if err != nil {
				return
			}
			var m struct{ Candidate webrtc.ICECandidateInit }
			if json.Unmarshal(raw, &m) == nil {
				_ = pc.AddICECandidate(m.Candidate)
			}
		}
	}
	offer, err := caller.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := caller.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	mustOK(t, patient, "rtc:offer", map[string]any{"appointment_id": id, "sdp": offer})
	var in struct{ SDP webrtc.SessionDescription }
	if err := json.Unmarshal(mustNext(t, ctx, doctor, "rtc:offer"), &in); err != nil {
		t.Fatal(err)
	}
	if err := callee.SetRemoteDescription(in.SDP); err != nil {
		t.Fatal(err)
	}
	go relayICE(doctor, callee)
	answer, err := callee.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := callee.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	mustOK(t, doctor, "rtc:answer", map[string]any{"appointment_id": id, "sdp": answer})
	if err := json.Unmarshal(mustNext(t, ctx, patient, "rtc:answer"), &in); err != nil {
		t.Fatal(err)
	}
	if err := caller.SetRemoteDescription(in.SDP); err != nil {
		t.Fatal(err)
	}
	go relayICE(patient, caller)

	select {
	case msg := <-got:
		if msg != "hello over webrtc" {
			t.Fatalf("data channel carried %q", msg)
		}
	case <-ctx.Done():
		t.Fatalf("no data channel message; ICE states: caller %s, callee %s", caller.ICEConnectionState(), callee.ICEConnectionState())
	}
	if s := caller.ConnectionState(); s != webrtc.PeerConnectionStateConnected {
		t.Fatalf("caller is %s", s)
	}
}

func mustNext(t *testing.T, ctx context.Context, cl *sioclient.Client, ev string) json.RawMessage {
	t.Helper()
	raw, err := cl.Next(ctx, ev)
	if err != nil {
		t.Fatalf("waiting for %s: %v", ev, err)
	}
	return raw
}
