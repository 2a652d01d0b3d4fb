package realtime_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"teleconsult/models"
	"teleconsult/modeltest"
	"teleconsult/realtime"
	"teleconsult/realtime/sioclient"
	"teleconsult/token"
)

func TestHandshakeRefusals(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	good := modeltest.MustUser(t, r.P, models.RolePatient, "ok@example.com")
	disabled := modeltest.MustUser(t, r.P, models.RolePatient, "off@example.com")
	disabledToken := modeltest.MustToken(t, r.P, disabled)
	off := true
	if _, err := r.P.Users.AdminUpdate(t.Context(), models.SystemActor, disabled.ID, models.AdminUpdateUserInput{Disabled: &off}); err != nil {
		t.Fatal(err)
	}
	past := &modeltest.Clock{}
	past.Set(time.Now().Add(-time.Hour))
	expired, _, err := modeltest.NewIssuer(t, past, 15*time.Minute).Issue(good.ID, string(good.Role))
	if err != nil {
		t.Fatal(err)
	}
	other, err := token.NewIssuer("another-secret-that-is-long-enough-987654", nil, "teleconsult", "teleconsult-api", time.Hour, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	forged, _, _ := other.Issue(good.ID, string(good.Role))

	for name, tok := range map[string]string{"none": "", "garbage": "not-a-jwt", "expired": expired, "forged": forged, "disabled": disabledToken} {
		t.Run(name, func(t *testing.T) {
			_, err := r.tryDial(tok)
			var ce *sioclient.ConnectError
			if !errors.As(err, &ce) {
				t.Fatalf("connected or failed otherwise: %v", err)
			}
			if ce.Message != "unauthorized" {
				t.Fatalf("connect_error message %q, want unauthorized", ce.Message)
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		r.with(t).dial(modeltest.MustToken(t, r.P, good))
	})
}

func TestJoinRules(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	c := r.people(models.StatusBooked)
	for _, tc := range []struct {
		name  string
		token string
	}{{"patient", c.PatientT}, {"doctor", c.DoctorT}} {
		t.Run(tc.name, func(t *testing.T) {
			rep := mustOK(t, r.with(t).dial(tc.token), "consultation:join", map[string]any{"appointment_id": c.Appt.ID})
			if rep.Raw["last_seq"] != float64(0) {
				t.Fatalf("last_seq %v", rep.Raw["last_seq"])
			}
			members, _ := rep.Raw["members"].([]any)
			if len(members) != 2 {
				t.Fatalf("members %v", rep.Raw["members"])
			}
			appt, _ := rep.Raw["appointment"].(map[string]any)
			if appt["id"] != c.Appt.ID {
				t.Fatalf("appointment %v", appt)
			}
		})
	}
	t.Run("stranger", func(t *testing.T) {
		rep := ack(t, r.with(t).dial(c.StrangerT), "consultation:join", map[string]any{"appointment_id": c.Appt.ID})
		if rep.code() != models.ENOTFOUND {
			t.Fatalf("stranger join: %+v", rep)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		cc := modeltest.MustAppointment(t, r.P, c.Doctor, c.Patient, time.Now().Add(3*time.Hour).Truncate(time.Minute), models.StatusCancelled)
		rep := ack(t, r.with(t).dial(c.PatientT), "consultation:join", map[string]any{"appointment_id": cc.ID})
		if rep.code() != models.EFORBIDDEN {
			t.Fatalf("join cancelled: %+v", rep)
		}
	})
	t.Run("send before join", func(t *testing.T) {
		// Sending needs membership of the appointment, not of the socket room:
		// a stranger is refused even so, as if it did not exist.
		rep := ack(t, r.with(t).dial(c.StrangerT), "chat:send", map[string]any{"appointment_id": c.Appt.ID, "client_msg_id": "x", "text": "hi"})
		if rep.code() != models.ENOTFOUND {
			t.Fatalf("stranger send: %+v", rep)
		}
	})
}

func TestChatBetweenPatientAndDoctor(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	c := r.people(models.StatusBooked)
	room := map[string]any{"appointment_id": c.Appt.ID}
	patient, patient2, doctor, stranger := r.dial(c.PatientT), r.dial(c.PatientT), r.dial(c.DoctorT), r.dial(c.StrangerT)
	mustOK(t, doctor, "consultation:join", room)
	mustOK(t, patient2, "consultation:join", room)
	mustOK(t, patient, "consultation:join", room)

	rep := mustOK(t, patient, "chat:send", map[string]any{"appointment_id": c.Appt.ID, "client_msg_id": "m-1", "text": "  Hello <b>doctor</b>  "})
	msg, _ := rep.Raw["message"].(map[string]any)
	if msg["seq"] != float64(1) || msg["text"] != "Hello <b>doctor</b>" || msg["sender_id"] != c.Patient.ID || msg["client_msg_id"] != "m-1" {
		t.Fatalf("acked message %v", msg)
	}
	for name, cl := range map[string]*sioclient.Client{"doctor": doctor, "patient's other device": patient2} {
		got := next(t, cl, "chat:message")
		if got["id"] != msg["id"] || got["text"] != "Hello <b>doctor</b>" {
			t.Fatalf("%s received %v", name, got)
		}
	}

	// A retry of the same client_msg_id is the same message, stored once, not re-sent.
	again := mustOK(t, patient, "chat:send", map[string]any{"appointment_id": c.Appt.ID, "client_msg_id": "m-1", "text": "Hello <b>doctor</b>"})
	if m2, _ := again.Raw["message"].(map[string]any); m2["id"] != msg["id"] || m2["seq"] != float64(1) {
		t.Fatalf("retry acked %v, want the first message", m2)
	}
	mustOK(t, doctor, "chat:send", map[string]any{"appointment_id": c.Appt.ID, "client_msg_id": "d-1", "text": "Hi, how can I help?"})
	if got := next(t, patient, "chat:message"); got["seq"] != float64(2) {
		t.Fatalf("patient got %v, want the doctor's seq 2", got)
	}
	time.Sleep(200 * time.Millisecond)
	if n := doctor.Count("chat:message"); n != 1 {
		t.Fatalf("doctor received %d chat:message events, want 1 (the retry must not be re-sent, own message comes by ack)", n)
	}
	if n := stranger.Count("chat:message"); n != 0 {
		t.Fatalf("a stranger received %d room messages", n)
	}

	hist, err := r.P.Chat.History(t.Context(), models.Actor{UserID: c.Doctor.ID, Role: models.RoleDoctor}, c.Appt.ID, models.HistoryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.Items) != 2 || hist.Items[0].Seq != 2 || hist.Items[1].Text != "Hello <b>doctor</b>" {
		t.Fatalf("stored history %+v", hist.Items)
	}

	// Typing is relayed to the others; read markers are stored and relayed.
	mustOK(t, doctor, "chat:typing", map[string]any{"appointment_id": c.Appt.ID, "typing": true})
	if got := next(t, patient, "chat:typing"); got["user_id"] != c.Doctor.ID || got["typing"] != true {
		t.Fatalf("typing %v", got)
	}
	if rep := mustOK(t, doctor, "chat:read", map[string]any{"appointment_id": c.Appt.ID, "seq": 99}); rep.Raw["seq"] != float64(2) {
		t.Fatalf("read clamped to %v, want 2", rep.Raw["seq"])
	}
	if got := next(t, patient, "chat:read"); got["user_id"] != c.Doctor.ID || got["seq"] != float64(2) {
		t.Fatalf("read %v", got)
	}

	// Sync returns what came after a seq, in order.
	sync := mustOK(t, patient2, "chat:sync", map[string]any{"appointment_id": c.Appt.ID, "after_seq": 1})
	if ms, _ := sync.Raw["messages"].([]any); len(ms) != 1 || ms[0].(map[string]any)["seq"] != float64(2) {
		t.Fatalf("sync after 1: %v", sync.Raw["messages"])
	}
	if n := stranger.Count("chat:typing") + stranger.Count("chat:read") + stranger.Count("consultation:presence"); n != 0 {
		t.Fatalf("a stranger received %d room events", n)
	}
}

func TestPresenceCountsEveryDevice(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	c := r.people(models.StatusBooked)
	room := map[string]any{"appointment_id": c.Appt.ID}
	doctor := r.dial(c.DoctorT)
	mustOK(t, doctor, "consultation:join", room)
	phone, laptop := r.dial(c.PatientT), r.dial(c.PatientT)
	rep := mustOK(t, phone, "consultation:join", room)
	if got := next(t, doctor, "consultation:presence"); got["user_id"] != c.Patient.ID || got["online"] != true {
		t.Fatalf("presence %v", got)
	}
	for _, m := range rep.Raw["members"].([]any) {
		mm := m.(map[string]any)
		if mm["user_id"] == c.Doctor.ID && mm["online"] != true {
			t.Fatalf("doctor shown offline in %v", rep.Raw["members"])
		}
	}
	mustOK(t, laptop, "consultation:join", room)
	_ = phone.Close()
	time.Sleep(300 * time.Millisecond)
	if n := doctor.Count("consultation:presence"); n != 1 {
		t.Fatalf("%d presence events while the patient still has a device in the room, want 1", n)
	}
	_ = laptop.Close()
	if got := next(t, doctor, "consultation:presence"); got["user_id"] != c.Patient.ID || got["online"] != false {
		t.Fatalf("presence after last device left %v", got)
	}
}

func TestConcurrentSendersGetDenseSeqs(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	c := r.people(models.StatusInProgress)
	const senders = 50
	clients := make([]*sioclient.Client, senders)
	for i := range clients {
		tok := c.PatientT
		if i%2 == 1 {
			tok = c.DoctorT
		}
		clients[i] = r.dial(tok)
	}
	var wg sync.WaitGroup
	seqs := make([]int, senders)
	errs := make(chan error, senders)
	start := make(chan struct{})
	for i, cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			raw, err := cl.Ack(ctx, "chat:send", map[string]any{"appointment_id": c.Appt.ID, "client_msg_id": fmt.Sprintf("c-%d", i), "text": fmt.Sprintf("message %d", i)})
			if err != nil {
				errs <- err
				return
			}
			var rep struct {
				OK      bool
				Message struct{ Seq int }
				Error   any
			}
			if err := jsonUnmarshal(raw, &rep); err != nil || !rep.OK {
				errs <- fmt.Errorf("sender %d: %s", i, raw)
				return
			}
			seqs[i] = rep.Message.Seq
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	sort.Ints(seqs)
	for i, s := range seqs {
		if s != i+1 {
			t.Fatalf("seqs %v: want 1..%d without gaps or duplicates", seqs, senders)
		}
	}
	var stored []int
	if err := r.P.DB.Table("messages").Where("appointment_id = ?", c.Appt.ID).Order("seq").Pluck("seq", &stored).Error; err != nil {
		t.Fatal(err)
	}
	if len(stored) != senders || stored[0] != 1 || stored[senders-1] != senders {
		t.Fatalf("stored seqs %v", stored)
	}
}

func TestChatClosesAfterWindow(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	c := r.people(models.StatusCompleted)
	patient := r.dial(c.PatientT)
	send := func(id string) reply {
		return ack(t, patient, "chat:send", map[string]any{"appointment_id": c.Appt.ID, "client_msg_id": id, "text": "thanks"})
	}
	if rep := send("a"); !rep.OK {
		t.Fatalf("chat right after completion: %+v", rep.Error)
	}
	r.Clock.Set(time.Now().Add(73 * time.Hour))
	if rep := send("b"); rep.code() != models.EFORBIDDEN {
		t.Fatalf("chat 73 h after completion: %+v", rep)
	}
	noShow := modeltest.MustAppointment(t, r.P, c.Doctor, c.Patient, time.Now().Add(-2*time.Hour).Truncate(time.Minute), models.StatusNoShow)
	if rep := ack(t, patient, "chat:send", map[string]any{"appointment_id": noShow.ID, "client_msg_id": "c", "text": "hi"}); rep.code() != models.EFORBIDDEN {
		t.Fatalf("chat in a no-show: %+v", rep)
	}
}

func TestMalformedPayloadsKeepTheSocket(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	c := r.people(models.StatusBooked)
	cl := r.dial(c.PatientT)
	deep := strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40)
	cases := map[string]string{
		"no payload":             `["chat:send"]`,
		"string payload":         `["chat:send","hello"]`,
		"number payload":         `["chat:send",42]`,
		"array payload":          `["chat:send",[1,2]]`,
		"null payload":           `["chat:send",null]`,
		"wrong type":             `["chat:send",{"appointment_id":5,"client_msg_id":"x","text":"hi"}]`,
		"text as list":           `["chat:send",{"appointment_id":"` + c.Appt.ID + `","client_msg_id":"x","text":["hi"]}]`,
		"missing fields":         `["chat:send",{}]`,
		"empty text":             `["chat:send",{"appointment_id":"` + c.Appt.ID + `","client_msg_id":"x","text":"   "}]`,
		"long text":              `["chat:send",{"appointment_id":"` + c.Appt.ID + `","client_msg_id":"x","text":"` + strings.Repeat("é", 4001) + `"}]`,
		"long client_msg_id":     `["chat:send",{"appointment_id":"` + c.Appt.ID + `","client_msg_id":"` + strings.Repeat("x", 65) + `","text":"hi"}]`,
		"deep nesting":           `["chat:send",{"appointment_id":"x","client_msg_id":"x","text":"hi","extra":` + deep + `}]`,
		"join without id":        `["consultation:join",{"appointment_id":""}]`,
		"join id as object":      `["consultation:join",{"appointment_id":{"$ne":null}}]`,
		"read without seq":       `["chat:read",{"appointment_id":"` + c.Appt.ID + `"}]`,
		"read negative":          `["chat:read",{"appointment_id":"` + c.Appt.ID + `","seq":-1}]`,
		"sync as string":         `["chat:sync",{"appointment_id":"` + c.Appt.ID + `","after_seq":"0"}]`,
		"typing without boolean": `["chat:typing",{"appointment_id":"` + c.Appt.ID + `"}]`,
	}
	for name, payload := range cases {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			raw, err := cl.AckRaw(ctx, payload)
			if err != nil {
				t.Fatalf("no ack: %v", err)
			}
			if rep := decodeReply(t, raw); rep.code() != models.EINVALID {
				t.Fatalf("ack %s, want invalid_request", raw)
			}
		})
	}
	t.Run("binary attachment", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		raw, err := cl.AckBinary(ctx, `["chat:send",{"appointment_id":"`+c.Appt.ID+`","client_msg_id":"b","text":{"_placeholder":true,"num":0}}]`, []byte{0xde, 0xad, 0xbe, 0xef})
		if err != nil {
			t.Fatalf("no ack: %v", err)
		}
		if rep := decodeReply(t, raw); rep.code() != models.EINVALID {
			t.Fatalf("ack %s, want invalid_request", raw)
		}
	})
	t.Run("unknown event is ignored", func(t *testing.T) {
		if err := cl.Emit("no:such:event", map[string]any{"x": 1}); err != nil {
			t.Fatal(err)
		}
	})
	// Still connected and served.
	rep := mustOK(t, cl, "chat:send", map[string]any{"appointment_id": c.Appt.ID, "client_msg_id": "after", "text": "still here"})
	if m, _ := rep.Raw["message"].(map[string]any); m["seq"] != float64(1) {
		t.Fatalf("after malformed input: %v (nothing malformed may have been stored)", rep.Raw)
	}
}

func TestFloodingIsRateLimited(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t), func(o *realtime.Options) { o.EventRate, o.EventBurst = 5, 5 })
	c := r.people(models.StatusBooked)
	cl := r.dial(c.PatientT)
	limited := 0
	for i := range 12 {
		rep := ack(t, cl, "chat:typing", map[string]any{"appointment_id": c.Appt.ID, "typing": i%2 == 0})
		if rep.code() == models.ERATELIMITED {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("12 events at once with a burst of 5 were all accepted")
	}
	// Sustained flooding ends the connection.
	for range 60 {
		if err := cl.Emit("chat:typing", map[string]any{"appointment_id": c.Appt.ID, "typing": true}); err != nil {
			break
		}
	}
	select {
	case <-cl.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a flooding socket stayed connected")
	}
}

func TestExpiredTokenEndsTheSocket(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	u := modeltest.MustUser(t, r.P, models.RolePatient, "short@example.com")
	tok, _, err := r.P.Opts.Issuer.IssueWithTTL(u.ID, string(u.Role), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	cl := r.dial(tok)
	next(t, cl, "session:expired")
	select {
	case <-cl.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("the socket stayed open after its token expired")
	}
}

func TestDisablingAUserClosesTheirSockets(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t))
	u := modeltest.MustUser(t, r.P, models.RolePatient, "soon-off@example.com")
	cl := r.dial(modeltest.MustToken(t, r.P, u))
	off := true
	if _, err := r.P.Users.AdminUpdate(t.Context(), models.SystemActor, u.ID, models.AdminUpdateUserInput{Disabled: &off}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-cl.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a disabled user's socket stayed open")
	}
}

func TestForeignOriginAndSocketCap(t *testing.T) {
	r := newRig(t, modeltest.NewPostgres(t), func(o *realtime.Options) {
		o.MaxPerUser = 2
		o.AllowOrigin = func(origin, host string) bool { return origin == "https://app.example" }
	})
	u := modeltest.MustUser(t, r.P, models.RolePatient, "cap@example.com")
	tok := modeltest.MustToken(t, r.P, u)
	dial := func(origin string) (*sioclient.Client, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		return sioclient.Dial(ctx, r.URL, sioclient.Options{Auth: map[string]any{"token": tok}, Header: h})
	}
	if _, err := dial("https://evil.example"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("a page from a foreign origin connected: %v", err)
	}
	a, err := dial("https://app.example")
	if err != nil {
		t.Fatalf("the allowed origin was refused: %v", err)
	}
	defer a.Close()
	b, err := dial("")
	if err != nil {
		t.Fatalf("a non-browser client (no Origin) was refused: %v", err)
	}
	defer b.Close()
	var ce *sioclient.ConnectError
	if _, err := dial(""); !errors.As(err, &ce) || ce.Message != models.ERATELIMITED {
		t.Fatalf("a third socket over the cap of 2: %v", err)
	}
}
