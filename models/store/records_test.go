package store_test

import (
	"testing"
	"time"

	"teleconsult/models"
)

// recordsLast returns the room's newest message as the patient reads it.
func recordsLast(t *testing.T, f *apptFixture, appointmentID string) models.Message {
	t.Helper()
	page, err := f.p.Chat.History(t.Context(), apptActor(f.patient), appointmentID, models.HistoryFilter{Limit: 1})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("history: %d items, %v", len(page.Items), err)
	}
	return page.Items[0]
}

// recordsPosted returns the MessagePosted events stored in the outbox.
func recordsPosted(t *testing.T, f *apptFixture) []models.MessagePosted {
	t.Helper()
	var rows []struct{ Kind, Payload string }
	if err := f.p.DB.Table("outbox_events").Select("kind, payload").Where("kind = ?", string(models.KindMessagePosted)).
		Order("created_at").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	var out []models.MessagePosted
	for _, r := range rows {
		ev, err := models.DecodeEvent(models.EventKind(r.Kind), []byte(r.Payload))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev.(models.MessagePosted))
	}
	return out
}

// Every call that ends leaves one call message in the room, with the
// outcome each side would name it by, announced through the outbox.
func TestCallsLeaveACallMessage(t *testing.T) {
	chatEachDriver(t, nil, func(t *testing.T, f *apptFixture, a models.Appointment) {
		ctx, p := t.Context(), f.p
		pat, doc := apptActor(f.patient), apptActor(f.doctor)
		want := func(name string, by models.User, outcome, media string, duration int64) {
			t.Helper()
			m := recordsLast(t, f, a.ID)
			if m.Kind != models.MessageCall || m.Call == nil || m.Call.Outcome != outcome || m.Call.Media != media ||
				m.Call.DurationS != duration || m.SenderID != by.ID || m.Seq != chatLastSeq(t, f, a.ID) {
				t.Fatalf("%s: last message %+v (call %+v); want a %s %s call by %s lasting %ds", name, m, m.Call, outcome, media, by.Role, duration)
			}
		}

		// Answered, talked 95 s, hung up by the callee: completed.
		cs := callsRinging(t, f, f.doctor, a.ID, "video")
		f.clock.Advance(5 * time.Second)
		if _, err := p.Calls.Accept(ctx, pat, a.ID); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(95 * time.Second)
		if _, err := p.Calls.Hangup(ctx, pat, a.ID); err != nil {
			t.Fatal(err)
		}
		want("answered", f.doctor, models.CallCompleted, "video", 95)
		if got := recordsLast(t, f, a.ID).Call.CallID; got != cs.CallID {
			t.Fatalf("call message for call %q, want %q", got, cs.CallID)
		}

		// Refused by the callee: declined.
		callsRinging(t, f, f.patient, a.ID, "audio")
		if _, err := p.Calls.Reject(ctx, doc, a.ID); err != nil {
			t.Fatal(err)
		}
		want("rejected", f.patient, models.CallDeclined, "audio", 0)

		// The caller gave up while it rang: cancelled.
		callsRinging(t, f, f.patient, a.ID, "audio")
		if _, err := p.Calls.Hangup(ctx, pat, a.ID); err != nil {
			t.Fatal(err)
		}
		want("given up", f.patient, models.CallCancelled, "audio", 0)

		// Nobody answered: missed, once, however often the timer fires.
		cs = callsRinging(t, f, f.doctor, a.ID, "video")
		f.clock.Advance(46 * time.Second)
		for range 2 {
			if _, err := p.Calls.ExpireRinging(ctx, a.ID, cs.CallID); err != nil {
				t.Fatal(err)
			}
		}
		want("unanswered", f.doctor, models.CallMissed, "video", 0)

		// Four calls, four messages, each announced once to the room's people.
		posted := recordsPosted(t, f)
		if len(posted) != 4 {
			t.Fatalf("%d messages announced, want 4", len(posted))
		}
		for _, ev := range posted {
			if ev.PatientID != f.patient.ID || ev.DoctorID != f.doctor.ID || len(ev.Recipients()) != 1 || ev.Recipients()[0] == ev.Message.SenderID {
				t.Fatalf("announced %+v, recipients %v", ev, ev.Recipients())
			}
		}
		if n := chatLastSeq(t, f, a.ID); n != 4 {
			t.Fatalf("last_seq %d after four calls, want 4 (dense)", n)
		}
	})
}

// Starting, completing and cancelling a consultation are recorded in its
// room; a no-show is not (nobody was there).
func TestLifecycleLeavesSystemMessages(t *testing.T) {
	chatEachDriver(t, nil, func(t *testing.T, f *apptFixture, a models.Appointment) {
		ctx, p := t.Context(), f.p
		f.clock.Set(mustTime(t, "2030-03-05T10:00:00Z"))
		if _, err := p.Appointments.Start(ctx, apptActor(f.doctor), a.ID); err != nil {
			t.Fatal(err)
		}
		chatSend(t, f, f.patient, a.ID, "hi", "hello")
		if _, err := p.Appointments.Complete(ctx, apptActor(f.doctor), a.ID); err != nil {
			t.Fatal(err)
		}
		ms, err := p.Chat.Sync(ctx, apptActor(f.patient), a.ID, 0)
		if err != nil || len(ms) != 3 {
			t.Fatalf("sync: %d, %v", len(ms), err)
		}
		kinds := []models.MessageKind{ms[0].Kind, ms[1].Kind, ms[2].Kind}
		if kinds[0] != models.MessageSystem || ms[0].System.Event != models.SystemStarted || kinds[1] != models.MessageText ||
			kinds[2] != models.MessageSystem || ms[2].System.Event != models.SystemCompleted || ms[2].SenderID != f.doctor.ID {
			t.Fatalf("history kinds %v: %+v", kinds, ms)
		}

		b := apptBook(t, f, f.patient, f.doctor, "2030-03-06T10:00:00Z")
		if _, err := p.Appointments.Cancel(ctx, apptActor(f.patient), b.ID, models.CancelInput{Reason: "better"}); err != nil {
			t.Fatal(err)
		}
		if m := recordsLast(t, f, b.ID); m.Kind != models.MessageSystem || m.System.Event != models.SystemCancelled || m.SenderID != f.patient.ID {
			t.Fatalf("after cancelling: %+v", m)
		}
	})
}

// Unread counts the other party's messages (and records) after the
// reader's marker; their own never count.
func TestUnread(t *testing.T) {
	chatEachDriver(t, nil, func(t *testing.T, f *apptFixture, a models.Appointment) {
		ctx, p := t.Context(), f.p
		pat, doc := apptActor(f.patient), apptActor(f.doctor)
		u, err := p.Chat.Unread(ctx, pat, a.ID)
		if err != nil || u.Count != 0 || u.LastMessage != nil {
			t.Fatalf("empty room: %+v, %v", u, err)
		}
		chatSend(t, f, f.doctor, a.ID, "d1", "one")
		chatSend(t, f, f.patient, a.ID, "p1", "mine")
		last := chatSend(t, f, f.doctor, a.ID, "d2", "two")
		u, err = p.Chat.Unread(ctx, pat, a.ID)
		if err != nil || u.Count != 2 || u.LastMessage == nil || u.LastMessage.ID != last.ID {
			t.Fatalf("patient's unread: %+v, %v; want 2 ending with %q", u, err, last.Text)
		}
		if u, _ := p.Chat.Unread(ctx, doc, a.ID); u.Count != 1 {
			t.Fatalf("doctor's unread: %d, want 1", u.Count)
		}
		if _, err := p.Chat.MarkRead(ctx, pat, a.ID, 1); err != nil {
			t.Fatal(err)
		}
		if u, _ := p.Chat.Unread(ctx, pat, a.ID); u.Count != 1 {
			t.Fatalf("after reading the first: %d unread, want 1", u.Count)
		}
		for _, stranger := range []models.User{f.patient2, f.doctor2} {
			_, err := p.Chat.Unread(ctx, apptActor(stranger), a.ID)
			apptWantCode(t, err, models.ENOTFOUND)
		}
	})
}
